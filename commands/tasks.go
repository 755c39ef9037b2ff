package commands

import (
	"context"
	"errors"
	"fmt"

	"gocrash/kernel"
	"gocrash/symbols"
)

// The task walkers are kernel's (kernel/tasks.go); the Session's
// versions run under the running command's context (Ctx).

// maxTasks bounds every list walk (kernel.MaxListEntries).
const maxTasks = kernel.MaxListEntries

func readPtr(mem symbols.Memory, addr uint64) (uint64, error) { return kernel.ReadPointer(mem, addr) }

func (s *Session) readPtr(addr uint64) (uint64, error) { return readPtr(s.Mem, addr) }

// walkList is kernel.WalkList.
func walkList(ctx context.Context, mem symbols.Memory, head uint64, what string, fn func(node uint64) error) error {
	return kernel.WalkList(ctx, mem, head, what, fn)
}

func (s *Session) walkList(head uint64, what string, fn func(node uint64) error) error {
	return walkList(s.Ctx(), s.Mem, head, what, fn)
}

// errStop ends a walk early without an error.
var errStop = errors.New("stop")

// ForEachProcess is kernel's ForEachProcess under the command's context.
func (s *Session) ForEachProcess(fn func(task uint64) error) error {
	return s.Kernel.ForEachProcess(s.Ctx(), fn)
}

// ForEachThread is kernel's ForEachThread under the command's context.
func (s *Session) ForEachThread(leader uint64, fn func(task uint64) error) error {
	return s.Kernel.ForEachThread(s.Ctx(), leader, fn)
}

// ForEachTask is kernel's ForEachTask under the command's context.
func (s *Session) ForEachTask(fn func(task uint64) error) error {
	return s.Kernel.ForEachTask(s.Ctx(), fn)
}

// CountTasks is kernel's CountTasks under the command's context.
func (s *Session) CountTasks() (int, error) { return s.Kernel.CountTasks(s.Ctx()) }

// Context is the task commands act on by default: the panic task until
// SetContext chooses another (crash's "set").
func (s *Session) Context() (uint64, error) {
	s.ctxMu.Lock()
	t := s.ctxTask
	s.ctxMu.Unlock()
	if t != 0 {
		return t, nil
	}
	t, err := s.PanicTask()
	if err != nil {
		return 0, err
	}
	s.SetContext(t)
	return t, nil
}

// SetContext makes task the current context.
func (s *Session) SetContext(task uint64) {
	s.ctxMu.Lock()
	s.ctxTask = task
	s.ctxMu.Unlock()
}

// contextPGD is the page table root (mm->pgd, a kernel virtual address)
// of the current context, for user virtual reads.
func (s *Session) contextPGD() (uint64, error) {
	task, err := s.Context()
	if err != nil {
		return 0, err
	}
	return s.taskPGD(task)
}

// taskPGD is task's mm->pgd; a kernel thread has none.
func (s *Session) taskPGD(task uint64) (uint64, error) {
	o, err := s.Object(task, "task_struct")
	if err != nil {
		return 0, err
	}
	mm, err := o.Member("mm")
	if err != nil {
		return 0, err
	}
	mmp, err := mm.Pointer()
	if err != nil {
		return 0, err
	}
	if mmp == 0 {
		return 0, fmt.Errorf("task %#x is a kernel thread: no user address space", task)
	}
	mmo, err := s.Object(mmp, "mm_struct")
	if err != nil {
		return 0, err
	}
	pgd, err := mmo.Member("pgd")
	if err != nil {
		return 0, err
	}
	return pgd.Pointer()
}
