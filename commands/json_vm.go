package commands

import (
	"io"
)

// VmTaskJSON is vm's answer for one task.
type VmTaskJSON struct {
	PID       int64        `json:"pid" desc:"PID"`
	Task      Addr         `json:"task" desc:"TASK"`
	CPU       int          `json:"cpu" desc:"CPU"`
	Command   string       `json:"command" desc:"COMMAND"`
	MM        Addr         `json:"mm" desc:"MM: the mm_struct (0 for a kernel thread)"`
	PGD       Addr         `json:"pgd" desc:"PGD"`
	RSSKB     uint64       `json:"rss_kb" desc:"RSS in KB"`
	TotalVMKB uint64       `json:"total_vm_kb" desc:"TOTAL_VM in KB"`
	VMAs      []VmAreaJSON `json:"vmas" desc:"the vm_area_structs, in address order"`
	Error     string       `json:"error,omitempty" desc:"foreach vm: why this task's vm could not be read"`
}

// VmAreaJSON is one VMA line.
type VmAreaJSON struct {
	VMA   Addr   `json:"vma" desc:"VMA: the vm_area_struct"`
	Start Addr   `json:"start" desc:"START"`
	End   Addr   `json:"end" desc:"END"`
	Flags Addr   `json:"flags" desc:"FLAGS: vm_flags"`
	File  string `json:"file" desc:"FILE: the mapped file's path, empty when anonymous"`
}

// vmJSON is vm's JSON for the current context or PID/task arguments;
// the options (-R, -f, ...) have none.
func vmJSON(s *Session, args []string) (any, error) {
	tt, tasks, err := jsonTasks(s, "vm", args)
	if err != nil {
		return nil, err
	}
	r, err := s.newVmRun(io.Discard, tt)
	if err != nil {
		return nil, err
	}
	out := []VmTaskJSON{}
	for _, t := range tasks {
		j, err := vmTaskJSON(s, r, t)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// vmTaskJSON is one task's vm (vm's JSON, and foreach vm's): vmRun.dump's
// reads, in its order.
func vmTaskJSON(s *Session, r *vmRun, t *Task) (VmTaskJSON, error) {
	page := uint64(s.Dump.PageSize())
	mem, err := r.ps.memUsage(t)
	if err != nil {
		return VmTaskJSON{}, err
	}
	j := VmTaskJSON{PID: t.PID, Task: Addr(t.Addr), CPU: t.CPU, Command: t.Comm, MM: Addr(t.MM),
		RSSKB: mem.RSS * page / 1024, TotalVMKB: mem.TotalVM * page / 1024, VMAs: []VmAreaJSON{}}
	if t.MM != 0 {
		pgd, err := s.PGD(t.MM)
		if err != nil {
			return VmTaskJSON{}, err
		}
		j.PGD = Addr(pgd)
		vmas, err := s.VMAInfos(s.Ctx(), t.MM)
		if err != nil {
			return VmTaskJSON{}, err
		}
		for _, v := range vmas {
			j.VMAs = append(j.VMAs, VmAreaJSON{VMA: Addr(v.Addr), Start: Addr(v.Start), End: Addr(v.End), Flags: Addr(v.Flags), File: v.Path})
		}
	}
	return j, nil
}
