package httpserver_test

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/httpserver"
)

// A handler that waits on its request (here: for good) is stopped before the write deadline and
// its answer reaches the client, instead of the client waiting on a connection the server can no
// longer write to. The bound is the only time in the test, far above the 2 s write timeout.
func TestAHandlerStillWaitingAnswersBeforeTheWriteDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httpserver.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // an activation whose workflow never answers
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
	}), httpserver.Timeouts{Write: 2 * time.Second})
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Get("http://" + ln.Addr().String() + "/v1/activate-plan")
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "1" {
		t.Errorf("answer: %d %v", res.StatusCode, res.Header)
	}
}
