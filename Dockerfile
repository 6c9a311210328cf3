# One image for the service's programs: worker, starter and the sample SCIM
# application. docker-compose.yml picks the program with `command`.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/ ./worker ./starter ./cmd/sampleapp

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/ /usr/local/bin/
COPY examples/ /examples/
USER nonroot
ENTRYPOINT []
