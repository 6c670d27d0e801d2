package main

import (
	"os"
	"testing"

	"github.com/tollgate-billing/tollgate/internal/testenv"
)

// runMainEnv makes the test binary run main() instead of the tests, so a test can start the
// real command as a subprocess without building a second binary.
const runMainEnv = "TOLLGATE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	testenv.Main(m)
}
