package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// JSON output: with --json on the command line or "set output json" in
// the shell, a command that declares JSON in the command table prints one
// JSON document instead of its text:
//
//	{"command": "ps", "result": [...]}
//
// and a failure, or a command without a JSON form, prints
//
//	{"command": "ps", "error": "..."}
//
// Each result is a plain Go value built from the same kernel/ values as
// the text (for ps and bt, from the very values each text line prints);
// docs/json.md documents them, generated from these types
// (TestJSONSchema), and TestJSONMatchesText compares them with the text
// output on every committed dump.

// OutputSetting is the "set output text|json" variable.
const OutputSetting = "output"

// JSONDoc is one command's JSON document.
type JSONDoc struct {
	Command string `json:"command" desc:"the command line"`
	Result  any    `json:"result,omitempty" desc:"the command's result (see each command below)"`
	Error   string `json:"error,omitempty" desc:"why the command failed; no result then"`
}

// defineOutput adds the output setting to a session's settings.
func defineOutput(st *Settings) {
	var on atomic.Bool
	st.Define(Setting{
		Name: OutputSetting, Values: "text | json", Gocrash: true,
		Help: "json makes every command that has a JSON form print one JSON\n" +
			"document ({\"command\", \"result\"} or {\"command\", \"error\"}) instead of\n" +
			"its text (docs/json.md); gocrash --json starts with it.",
		Get: func() string {
			if on.Load() {
				return "json"
			}
			return "text"
		},
		Set: func(v string) error {
			switch v {
			case "json", "text":
				on.Store(v == "json")
				return nil
			}
			return fmt.Errorf("invalid setting: %s (text or json)", v)
		},
	})
}

// JSONOutput reports whether commands print JSON.
func (s *Session) JSONOutput() bool {
	if s == nil {
		return false
	}
	st, ok := s.Settings().Lookup(OutputSetting)
	return ok && st.Get() == "json"
}

// SetJSONOutput turns JSON output on or off (gocrash --json).
func (s *Session) SetJSONOutput(on bool) error {
	st, ok := s.Settings().Lookup(OutputSetting)
	if !ok {
		return errors.New("no output setting")
	}
	if on {
		return st.Set("json")
	}
	return st.Set("text")
}

// runJSON runs a command for its JSON document.
func runJSON(ctx context.Context, s *Session, c *Command, line string, args []string, w io.Writer) (err error) {
	doc := JSONDoc{Command: line}
	defer func() {
		if r := recover(); r != nil {
			err = &CommandError{Cmd: c.Name, Err: fmt.Errorf("internal error: %v%s", r, firstFrame(debug.Stack()))}
		}
		if err != nil {
			doc.Result, doc.Error = nil, jsonError(c.Name, err)
		}
		b, merr := json.Marshal(doc)
		if merr != nil {
			b, _ = json.Marshal(JSONDoc{Command: line, Error: "internal error: " + merr.Error()})
		}
		w.Write(append(b, '\n'))
		if err != nil {
			err = &printedError{err: err}
		}
	}()
	if c.JSON == nil {
		return &CommandError{Cmd: c.Name, Err: fmt.Errorf("%s has no JSON output (docs/json.md lists the commands that have)", c.Name)}
	}
	defer s.withCtx(ctx)()
	doc.Result, err = c.JSON(s, args)
	return err
}

// jsonError is the error line a text run would have printed.
func jsonError(cmd string, err error) string {
	var ce *CommandError
	if errors.As(err, &ce) {
		return ce.Error()
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		if c, ok := Lookup(cmd); ok {
			return fmt.Sprintf("%s: %s; usage: %s", cmd, ue.Error(), c.UsageLine())
		}
	}
	return cmd + ": " + err.Error()
}

// jsonOptionsErr refuses options whose output has no JSON form, saying
// what the command's JSON form takes (JSONArguments).
func jsonOptionsErr(cmd string, args []string) error {
	takes := JSONArguments[cmd]
	if takes == "" {
		var forms []string
		for k := range JSONArguments {
			if first, opt, ok := strings.Cut(k, " "); ok && first == cmd {
				forms = append(forms, opt)
			}
		}
		sort.Strings(forms)
		takes = strings.Join(forms, " or ")
	}
	return fmt.Errorf("%s has no JSON output (the JSON form of %s takes %s)", strings.Join(args, " "), cmd, takes)
}

// Addr is an address or a register in JSON: a hex string as crash prints
// it ("ffffffffc00c6000"), since JSON numbers lose 64-bit precision in
// most readers.
type Addr uint64

// MarshalJSON writes the hex string.
func (a Addr) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatUint(uint64(a), 16) + `"`), nil
}

// UnmarshalJSON reads it back.
func (a *Addr) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("address: %s is not a string", b)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return fmt.Errorf("address: %q is not hexadecimal", s)
	}
	*a = Addr(v)
	return nil
}
