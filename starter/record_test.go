package starter_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tollgate-billing/tollgate/workflows"
)

// envRecord makes the integration tests record the histories they produce into
// ../workflows/testdata, where the replay test checks every later version of the workflow code
// against them: `TOLLGATE_RECORD_HISTORIES=1 go test ./starter/`. Recorded files are committed;
// a file is only written when missing, so an old history is never replaced by a new one.
const envRecord = "TOLLGATE_RECORD_HISTORIES"

// identityRe finds the worker identities in a recorded history.
var identityRe = regexp.MustCompile(`"identity":\s*"[^"]*"`)

// recordHistory writes every run of a purchase's workflow (following continue-as-new back to
// the first run) as <name>-run<N>.json.
func recordHistory(s *stack, purchaseRef, name string) {
	s.t.Helper()
	recordWorkflow(s, workflows.WorkflowID(purchaseRef), name)
}

// recordWorkflow writes every run of the workflow with the ID as <name>-run<N>.json.
func recordWorkflow(s *stack, workflowID, name string) {
	t := s.t
	t.Helper()
	if os.Getenv(envRecord) == "" {
		return
	}
	var runs [][]*historypb.HistoryEvent
	runID := ""
	for {
		var events []*historypb.HistoryEvent
		it := s.tc.GetWorkflowHistory(s.ctx, workflowID, runID, false, 0)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, ev)
		}
		runs = append([][]*historypb.HistoryEvent{events}, runs...)
		prev := events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if prev == "" {
			break
		}
		runID = prev
	}
	for i, events := range runs {
		path := filepath.Join("..", "workflows", "testdata", name+"-run"+strconv.Itoa(i+1)+".json")
		if _, err := os.Stat(path); err == nil {
			continue
		}
		data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&historypb.History{Events: events})
		if err != nil {
			t.Fatal(err)
		}
		// worker identities name the machine that recorded them; replay does not need them
		data = identityRe.ReplaceAll(data, []byte(`"identity": "recorder"`))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %s (%d events)", path, len(events))
	}
}
