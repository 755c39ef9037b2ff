package commands

import (
	"fmt"
	"strings"
)

// FilesTaskJSON is files' answer for one task.
type FilesTaskJSON struct {
	PID     int64          `json:"pid" desc:"PID"`
	Task    Addr           `json:"task" desc:"TASK"`
	CPU     int            `json:"cpu" desc:"CPU"`
	Command string         `json:"command" desc:"COMMAND"`
	HasFS   bool           `json:"has_fs" desc:"the task has an fs_struct (the ROOT/CWD line)"`
	Root    string         `json:"root" desc:"ROOT"`
	Cwd     string         `json:"cwd" desc:"CWD"`
	Files   []FileLineJSON `json:"files" desc:"the open files, by fd (empty: No open files)"`
	Error   string         `json:"error,omitempty" desc:"foreach files: why this task's files could not be read"`
}

// FileLineJSON is one open file.
type FileLineJSON struct {
	FD     int    `json:"fd" desc:"FD"`
	File   Addr   `json:"file" desc:"FILE: the struct file"`
	Dentry Addr   `json:"dentry" desc:"DENTRY (0: none, files shows ?)"`
	Inode  Addr   `json:"inode" desc:"INODE (0: none)"`
	Type   string `json:"type" desc:"TYPE: REG, DIR, CHR, BLK, LNK, FIFO, PIPE, SOCK or UNKN"`
	Path   string `json:"path" desc:"PATH as files shows it (none for a pipe)"`
}

// filesJSON is files' JSON for the current context or PID/task
// arguments; the options (-c, -R, -d) have none.
func filesJSON(s *Session, args []string) (any, error) {
	_, tasks, err := jsonTasks(s, "files", args)
	if err != nil {
		return nil, err
	}
	out := []FilesTaskJSON{}
	for _, t := range tasks {
		j, err := filesTaskJSON(s, t)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// filesTaskJSON is one task's files (files' JSON, and foreach files').
func filesTaskJSON(s *Session, t *Task) (FilesTaskJSON, error) {
	tf, err := s.TaskFiles(s.Ctx(), t.Addr, false)
	if err != nil {
		return FilesTaskJSON{}, err
	}
	j := FilesTaskJSON{PID: t.PID, Task: Addr(t.Addr), CPU: t.CPU, Command: t.Comm, HasFS: tf.HasFS,
		Root: tf.Root, Cwd: tf.Cwd, Files: []FileLineJSON{}}
	for _, f := range tf.Files {
		typ, path := inodeType(f.Mode, f.Pipe, f.Path)
		j.Files = append(j.Files, FileLineJSON{FD: f.FD, File: Addr(f.File), Dentry: Addr(f.Dentry), Inode: Addr(f.Inode),
			Type: strings.TrimSpace(typ), Path: path})
	}
	return j, nil
}

// jsonTasks is the task selection files and vm make for their JSON: the
// current context, or each PID/task argument as runFiles and vm select
// them (every thread of a PID); an option has no JSON form.
func jsonTasks(s *Session, cmd string, args []string) (*taskTable, []*Task, error) {
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return nil, nil, jsonOptionsErr(cmd, args)
		}
	}
	tt, err := s.taskTable()
	if err != nil {
		return nil, nil, err
	}
	var tasks []*Task
	if len(args) == 0 {
		ctx, err := s.Context()
		if err != nil {
			return nil, nil, err
		}
		t := tt.byTask(ctx)
		if t == nil {
			return nil, nil, fmt.Errorf("context task %x is not in the task table", ctx)
		}
		tasks = append(tasks, t)
	}
	for _, a := range args {
		pid, task, ok := tt.strToContext(a)
		if !ok {
			return nil, nil, fmt.Errorf("invalid task or pid value: %s", a)
		}
		tasks = append(tasks, tt.selected(pid, task)...)
	}
	return tt, tasks, nil
}
