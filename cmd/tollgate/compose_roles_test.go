package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tollgate-billing/tollgate/devenv"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// TestComposeSecretsAndRoles: compose takes every password and the web secret from required
// variables (one TOLLGATE_WEB_SECRET for all API replicas), the migrate step logs in as the
// database's owner and the API and worker as the data-only app role, and the init script hands
// the roles script every variable it uses.
func TestComposeSecretsAndRoles(t *testing.T) {
	c := readCompose(t)
	required := regexp.MustCompile(`^\$\{[A-Z_]+:\?[^}]+\}$`)
	if v := c.Services["tollgate-api"].Environment["TOLLGATE_WEB_SECRET"]; !strings.HasPrefix(v, "${TOLLGATE_WEB_SECRET:?") {
		t.Errorf("tollgate-api TOLLGATE_WEB_SECRET = %q: want the required ${TOLLGATE_WEB_SECRET:?…}, one value for every replica", v)
	}
	for svc, role := range map[string]string{"migrate": "tollgate_migrate", "tollgate-api": "tollgate_app", "tollgate-worker": "tollgate_app"} {
		raw := c.Services[svc].Environment["DATABASE_URL"]
		user, rest, _ := strings.Cut(strings.TrimPrefix(raw, "postgres://"), ":")
		pw, _, _ := strings.Cut(rest, "@postgres:5432/")
		if user != role || !required.MatchString(pw) {
			t.Errorf("%s DATABASE_URL = %q: want role %s with a password from a required variable", svc, raw, role)
		}
	}
	for _, v := range []string{c.Services["postgres"].Environment["POSTGRES_PASSWORD"], c.Services["temporal"].Environment["POSTGRES_PWD"]} {
		if !required.MatchString(v) {
			t.Errorf("a Postgres superuser password is %q: want a required variable", v)
		}
	}
	sh, err := os.ReadFile("../../deploy/postgres-init.sh")
	if err != nil {
		t.Fatal(err)
	}
	mounts := strings.Join(c.Services["postgres"].Volumes, "\n")
	for _, want := range []string{"./deploy/postgres-init.sh:/docker-entrypoint-initdb.d/", "./deploy/postgres-roles.sql:/tollgate/postgres-roles.sql"} {
		if !strings.Contains(mounts, want) {
			t.Errorf("the postgres service does not mount %s", want)
		}
	}
	if !strings.Contains(string(sh), "--file /tollgate/postgres-roles.sql") {
		t.Error("postgres-init.sh does not run /tollgate/postgres-roles.sql")
	}
	for _, v := range rolesScriptVars(t) {
		if !strings.Contains(string(sh), "--set "+v+"=") {
			t.Errorf("postgres-init.sh does not set %s, which postgres-roles.sql uses", v)
		}
	}
}

// rolesScriptVars lists the psql variables deploy/postgres-roles.sql reads.
func rolesScriptVars(t *testing.T) []string {
	raw, err := os.ReadFile("../../deploy/postgres-roles.sql")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range regexp.MustCompile(`:["']([a-z_]+)["']`).FindAllStringSubmatch(string(raw), -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// TestAppRoleNeedsNoDDL applies deploy/postgres-roles.sql with psql, migrates as the migrate role,
// then runs `tollgate api` and `tollgate worker` as the app role through a purchase, a renewal,
// usage (single and bulk), limits, a meter, a checkout link, a refund and every list; and shows
// the app role cannot change the schema.
func TestAppRoleNeedsNoDDL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the API and the worker against Postgres and Temporal")
	}
	ctx := context.Background()
	cluster := testenv.PostgresCluster(t)
	suffix := fmt.Sprintf("%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	db, migrateRole, appRole := "roles_"+suffix, "migrate_"+suffix, "app_"+suffix
	const migratePW, appPW = "migrate-pw-4Jq", "app-pw-7Rw"
	psql := exec.CommandContext(ctx, filepath.Join(cluster.BinDir(), "psql"), "--no-psqlrc", "--dbname", cluster.AdminURL(),
		"--set", "database="+db, "--set", "migrate_role="+migrateRole, "--set", "migrate_password="+migratePW,
		"--set", "app_role="+appRole, "--set", "app_password="+appPW, "--file", "../../deploy/postgres-roles.sql")
	if out, err := psql.CombinedOutput(); err != nil {
		t.Fatalf("postgres-roles.sql: %v\n%s", err, out)
	}
	urlOf := func(role, pw string) string {
		return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", role, url.QueryEscape(pw), cluster.Port(), db)
	}
	migrateURL, appURL := urlOf(migrateRole, migratePW), urlOf(appRole, appPW)
	getenv := func(env map[string]string) func(string) string { return func(k string) string { return env[k] } }
	if err := run(ctx, []string{"migrate"}, getenv(map[string]string{"DATABASE_URL": migrateURL}), io.Discard, io.Discard); err != nil {
		t.Fatalf("migrate as the migrate role: %v", err)
	}

	st, err := store.Open(ctx, appURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, key := testenv.Merchant(t, st, "Acme")
	for _, ddl := range []string{"CREATE TABLE intruder (id int)", "ALTER TABLE customers ADD COLUMN intruder int",
		"DROP TABLE usage_events", "TRUNCATE transactions", "CREATE INDEX intruder ON customers (email)"} {
		_, err := st.Pool.Exec(ctx, ddl)
		if pg := (*pgconn.PgError)(nil); !errors.As(err, &pg) || pg.Code != "42501" {
			t.Errorf("the app role ran %q: %v", ddl, err)
		}
	}

	port, _ := devenv.FreePort()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	env := map[string]string{"DATABASE_URL": appURL, "TEMPORAL_ADDRESS": testenv.TemporalAddress(t), "TOLLGATE_ADDR": addr,
		"TOLLGATE_WEB_SECRET": "web-secret-roles-Q2m"}
	logs := &testenv.LogBuffer{}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	for _, sub := range []string{"api", "worker"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(runCtx, []string{sub}, getenv(env), io.Discard, logs); err != nil {
				t.Errorf("tollgate %s as the app role: %v", sub, err)
			}
		}()
	}
	base := "http://" + addr
	if err := waitHTTP(ctx, base+"/readyz", 30*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	client := &http.Client{Timeout: 2 * time.Minute} // a refused write must fail the test, not hang it
	call := func(method, path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("X-API-KEY", key)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s as the app role: %v\n%s", method, path, err, logs)
		}
		defer res.Body.Close()
		var b map[string]any
		_ = json.NewDecoder(res.Body).Decode(&b)
		if res.StatusCode < 200 || res.StatusCode > 299 {
			t.Fatalf("%s %s as the app role: %d %v\n%s", method, path, res.StatusCode, b, logs)
		}
		return b
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	cus := str(call("POST", "/v1/sdk/customers", `{"email":"jane@acme.com","name":"Jane Smith"}`), "reference")
	call("POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
	prd := str(call("POST", "/v1/products", `{"name":"support-bot"}`), "reference")
	pln := str(call("POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`), "reference")
	act := call("POST", "/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+prd+`","planRef":"`+pln+`"}`)
	pur, _ := act["purchase"].(map[string]any)
	ref := str(pur, "reference")
	if act["status"] != "activated" || ref == "" {
		t.Fatalf("activate as the app role: %v", act)
	}
	call("POST", "/v1/purchases/"+ref+"/advance-clock", `{"days":32}`)
	call("POST", "/v1/purchases/"+ref+"/cancel-renewal", `{"reason":"roles test"}`)
	event := `{"customerRef":"` + cus + `","productRef":"` + prd + `","actionType":"api_call","units":1,"outcome":"success"}`
	call("POST", "/v1/usages", event)
	call("POST", "/v1/usages/bulk", `{"events":[`+strings.Repeat(event+",", 20)+event+`]}`)
	call("POST", "/v1/limits", `{"customerRef":"`+cus+`","productRef":"`+prd+`"}`)
	call("POST", "/v1/meters", `{"name":"documents","description":"pages read"}`)
	call("POST", "/v1/checkout-sessions", `{"customerRef":"`+cus+`","productRef":"`+prd+`","planRef":"`+pln+`"}`)
	txns, _ := call("GET", "/v1/transactions", "")["data"].([]any)
	if len(txns) == 0 {
		t.Fatal("no transactions after a purchase and its renewal")
	}
	payment, _ := txns[0].(map[string]any)
	call("POST", "/v1/refunds", `{"sourceTransactionRef":"`+str(payment, "reference")+`","amount":100}`)
	for _, list := range []string{"/v1/customers", "/v1/sdk/customers", "/v1/products", "/v1/products/" + prd + "/plans",
		"/v1/purchases", "/v1/transactions", "/v1/meters", "/v1/transactions/stats"} {
		call("GET", list, "")
	}
	if strings.Contains(logs.String(), "permission denied") {
		t.Errorf("the app role was refused something:\n%s", logs)
	}
	var conn *pgx.Conn // the migrate role still owns what the migrations made
	if conn, err = pgx.Connect(ctx, migrateURL); err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var owner string
	if err := conn.QueryRow(ctx, `SELECT tableowner FROM pg_tables WHERE tablename = 'customers'`).Scan(&owner); err != nil || owner != migrateRole {
		t.Errorf("customers is owned by %q (%v), want %s", owner, err, migrateRole)
	}
}
