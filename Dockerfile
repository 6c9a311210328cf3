# One image for the service's programs: worker, starter and the sample SCIM
# application. docker-compose.yml picks the program with `command`.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/ ./worker ./starter ./cmd/sampleapp
# The audit folder, owned by the user the programs run as, so that a volume
# mounted on it is writable.
RUN mkdir -p /audit

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/ /usr/local/bin/
COPY examples/ /examples/
COPY --from=build --chown=nonroot:nonroot /audit /var/lib/provisioning/audit
USER nonroot
ENTRYPOINT []
