package testenv

import (
	"bufio"
	"strings"
	"testing"
)

// TranscriptCommands turns a printed shell transcript into commands: a line starting with "$"
// starts one, a line starting with ">" continues it. Seed 002 prints the last option of step 5
// on a "$" line of its own ("$ -d '{}'"); a line that starts with an option cannot be a command,
// so it continues the one before, as the reader (and the issue that found it) takes it.
func TranscriptCommands(t testing.TB, text string) []string {
	t.Helper()
	var cmds []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "$") && strings.HasPrefix(strings.TrimSpace(line[1:]), "-") && len(cmds) > 0:
			last := &cmds[len(cmds)-1]
			if !strings.HasSuffix(*last, `\`) {
				*last += ` \`
			}
			*last += "\n" + strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "$"):
			cmds = append(cmds, strings.TrimPrefix(line, "$"))
		case strings.HasPrefix(line, ">") && len(cmds) > 0:
			cmds[len(cmds)-1] += "\n" + strings.TrimPrefix(strings.TrimPrefix(line, ">"), " ")
		case strings.TrimSpace(line) != "":
			t.Fatalf("transcript line is neither a command nor a continuation: %q", line)
		}
	}
	return cmds
}
