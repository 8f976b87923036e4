package archive

import (
	"strings"
	"testing"
)

func TestRedactMasksEverySecretPart(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://shop:s3cret@db.example:5432/orders?sslmode=require", "postgres://xxxxx:xxxxx@db.example:5432/orders?sslmode=require"},
		{"postgresql://shop:p%40ss@db/orders", "postgresql://xxxxx:xxxxx@db/orders"},
		{"postgres://s3user@db/orders?password=s3cret&sslmode=disable", "postgres://xxxxx@db/orders?password=xxxxx&sslmode=disable"},
		{"postgres://db/orders?sslkey=/s3/key.pem&sslpassword=s3cret&sslmode=verify-full&connect_timeout=5",
			"postgres://db/orders?connect_timeout=5&sslkey=xxxxx&sslmode=verify-full&sslpassword=xxxxx"},
		{"postgres://db/orders?user=s3user&options=-c%20s3=1&passfile=/s3/pgpass", "postgres://db/orders?options=xxxxx&passfile=xxxxx&user=xxxxx"},
		{"postgres://db/orders#s3cret", "postgres://db/orders"},
		{"postgres://db/orders", "postgres://db/orders"},
		{"host=db user=s3user password=s3cret dbname=orders", "host=db user=xxxxx password=xxxxx dbname=orders"},
		{"host=db password = 's3 cr\\'et' dbname=orders", "host=db password=xxxxx dbname=orders"},
		{"host=db sslkey=/s3/key.pem sslpassword='s3 cret' sslmode=require port=5432", "host=db sslkey=xxxxx sslpassword=xxxxx sslmode=require port=5432"},
		{"postgres://shop:s3cret@db:port/orders", "postgres://(unparsable URL)"},
	} {
		got := Redact(tc.in)
		if got != tc.want || strings.Contains(got, "s3") {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
