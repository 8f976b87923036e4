package archive

import (
	"strings"
	"testing"
)

func TestRedactHidesThePasswordInEveryForm(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://shop:s3cret@db.example:5432/orders?sslmode=require", "postgres://shop:xxxxx@db.example:5432/orders?sslmode=require"},
		{"postgresql://shop:p%40ss@db/orders", "postgresql://shop:xxxxx@db/orders"},
		{"postgres://shop@db/orders?password=s3cret&sslmode=disable", "postgres://shop@db/orders?password=xxxxx&sslmode=disable"},
		{"postgres://db/orders", "postgres://db/orders"},
		{"host=db user=shop password=s3cret dbname=orders", "host=db user=shop password=xxxxx dbname=orders"},
		{"host=db password = 's3 cr\\'et' dbname=orders", "host=db password=xxxxx dbname=orders"},
		{"postgres://shop:s3cret@db:port/orders", "postgres://(unparsable URL)"},
	} {
		got := Redact(tc.in)
		if got != tc.want || strings.Contains(got, "s3") {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
