package commands

import (
	"errors"
	"io"
	"strings"
)

// foreachJSONForms are the foreach keywords with a JSON form: each runs
// its command's own per-task JSON (bt's, ps's, files', vm's) on the tasks
// foreach's one selection (foreachSpec.each) picks, and allows the flags
// listed; the result is an array of the command's per-task values.
var foreachJSONForms = map[string]struct {
	flags string
	start func(s *Session, f *foreachSpec, tt *taskTable) (run func(t *Task) error, result func() any, err error)
}{
	"bt":    {"sxdo", foreachBtJSON},
	"ps":    {"G", foreachPsJSON},
	"files": {"", foreachFilesJSON},
	"vm":    {"", foreachVmJSON},
	"sig":   {"", foreachSigJSON},
}

// foreachJSON is foreach's JSON: foreach bt (the default format, -s,
// -x, -d), ps (the default format), files and vm, on any task selection.
func foreachJSON(s *Session, args []string) (any, error) {
	var msgs strings.Builder
	f, tt, states, err := parseForeach(s, args, &msgs)
	if err != nil {
		return nil, err
	}
	// foreach's messages ("unknown argument", "no keywords specified")
	// are the error: the answer would not be the one asked for.
	if m := strings.TrimSpace(msgs.String()); m != "" {
		first, _, _ := strings.Cut(m, "\n")
		return nil, errors.New(strings.TrimPrefix(first, "foreach: "))
	}
	form, ok := foreachJSONForms[f.keyword]
	if !ok || f.ref != "" {
		return nil, jsonOptionsErr("foreach", args)
	}
	for c, n := range f.flags {
		if n > 0 && !strings.ContainsRune(form.flags, rune(c)) {
			return nil, jsonOptionsErr("foreach", args)
		}
	}
	run, result, err := form.start(s, f, tt)
	if err != nil {
		return nil, err
	}
	if err := f.each(s, tt, states, nil, run); err != nil {
		return nil, err
	}
	return result(), nil
}

func foreachBtJSON(s *Session, f *foreachSpec, tt *taskTable) (func(t *Task) error, func() any, error) {
	r, err := foreachBtRun(s, f, io.Discard)
	if err != nil {
		return nil, nil, err
	}
	r.js = &btJSON{tasks: []BtTaskJSON{}}
	run := func(t *Task) error {
		n := len(r.js.tasks)
		r.failed = nil
		r.task(t.Addr)
		if len(r.js.tasks) == n {
			// No header: the backtrace could not start.
			j := BtTaskJSON{PID: t.PID, Task: Addr(t.Addr), CPU: t.CPU, Command: t.Comm, Frames: []BtFrameJSON{}}
			if r.failed != nil {
				j.Error = r.failed.Error()
			}
			r.js.tasks = append(r.js.tasks, j)
		}
		return nil
	}
	return run, func() any { return r.js.tasks }, nil
}

func foreachPsJSON(s *Session, f *foreachSpec, tt *taskTable) (func(t *Task) error, func() any, error) {
	rows := []PsRow{}
	r, err := foreachPsRows(s, f, tt, io.Discard, &rows)
	if err != nil {
		return nil, nil, err
	}
	return r.run, func() any { return rows }, nil
}

func foreachFilesJSON(s *Session, f *foreachSpec, tt *taskTable) (func(t *Task) error, func() any, error) {
	out := []FilesTaskJSON{}
	run := func(t *Task) error {
		j, err := filesTaskJSON(s, t)
		if err != nil {
			// foreach goes on to the next task.
			j = FilesTaskJSON{PID: t.PID, Task: Addr(t.Addr), CPU: t.CPU, Command: t.Comm, Files: []FileLineJSON{}, Error: err.Error()}
		}
		out = append(out, j)
		return nil
	}
	return run, func() any { return out }, nil
}

func foreachVmJSON(s *Session, f *foreachSpec, tt *taskTable) (func(t *Task) error, func() any, error) {
	r, err := s.newVmRun(io.Discard, tt)
	if err != nil {
		return nil, nil, err
	}
	out := []VmTaskJSON{}
	run := func(t *Task) error {
		j, err := vmTaskJSON(s, r, t)
		if err != nil {
			// foreach goes on to the next task.
			j = VmTaskJSON{PID: t.PID, Task: Addr(t.Addr), CPU: t.CPU, Command: t.Comm, MM: Addr(t.MM), VMAs: []VmAreaJSON{}, Error: err.Error()}
		}
		out = append(out, j)
		return nil
	}
	return run, func() any { return out }, nil
}
