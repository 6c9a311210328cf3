package postgres_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/openprovisioning/provisioner/internal/testenv/postgres"
)

func TestServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	ctx := context.Background()
	srv := postgres.Start(t)
	conn, err := pgx.Connect(ctx, srv.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE mine (id int)`); err != nil {
		t.Fatal(err)
	}

	other, err := pgx.Connect(ctx, srv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	var n int
	if err := other.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 'mine'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a new database holds another's table: %d, %v", n, err)
	}

	u, _ := url.Parse(srv.DSN())
	u.User = url.UserPassword(postgres.User, "wrong")
	if c, err := pgx.Connect(ctx, u.String()); err == nil {
		c.Close(ctx)
		t.Fatal("a wrong password was accepted")
	}
}
