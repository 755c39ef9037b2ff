package kernel

import (
	"context"
	"fmt"
)

// The signal walker: a task's signal dispositions (sighand_struct.action),
// its blocked and pending sets and the queued siginfos, as crash's task.c
// dump_signal_data() reads them. Layouts: include/linux/sched/signal.h
// (signal_struct, sighand_struct), include/linux/signal_types.h
// (sigpending, sigqueue, k_sigaction), include/linux/sched.h.

// A SigAction is one entry of sighand_struct.action[].
type SigAction struct {
	Addr    uint64 // the k_sigaction
	Handler uint64 // sa_handler: 0 SIG_DFL, 1 SIG_IGN, ^0 SIG_ERR, else the user handler
	Mask    uint64 // sa_mask
	Flags   uint64 // sa_flags
}

// A SigQueued is one queued signal: its number and its siginfo.
type SigQueued struct {
	Signo int32
	Info  uint64 // &sigqueue.info
}

// TaskSignals is what sig shows of one task.
type TaskSignals struct {
	SignalStruct uint64
	NrThreads    int64 // signal_struct.nr_threads
	Sighand      uint64
	Actions      []SigAction // signals 1..64

	SigPending   bool   // TIF_SIGPENDING
	Blocked      uint64 // as crash reads it (see Signals)
	Pending      uint64 // task->pending.signal
	Queue        []SigQueued
	SharedSignal uint64 // signal->shared_pending.signal
	SharedQueue  []SigQueued
}

// nSig is _NSIG on x86_64; tifSigpending is TIF_SIGPENDING
// (arch/x86/include/asm/thread_info.h).
const (
	nSig          = 64
	tifSigpending = 2
	// maxSigQueue bounds a queue walk (RLIMIT_SIGPENDING is per user).
	maxSigQueue = 1 << 16
)

// Signals reads task's signal state; actions asks for the thread group's
// part too (dispositions, shared pending). One of crash's readings is kept
// so that sig prints what crash prints: BLOCKED is the two words at
// task->blocked (sigset_t is one word on x86_64; crash reads two, the
// second being real_blocked, and ORs it in shifted by 32).
func (k *Kernel) Signals(ctx context.Context, task uint64, actions bool) (*TaskSignals, error) {
	r, err := k.reader()
	if err != nil {
		return nil, err
	}
	return signalsOf(ctx, r, task, actions)
}

func signalsOf(ctx context.Context, r *reader, task uint64, actions bool) (*TaskSignals, error) {
	ts := &TaskSignals{}
	var err error
	if ts.SignalStruct, err = r.ptr(task, "task_struct.signal"); err != nil {
		return nil, err
	}
	if actions && ts.SignalStruct != 0 {
		n, err := r.member(ts.SignalStruct, "signal_struct.nr_threads", 4)
		if err != nil {
			return nil, err
		}
		ts.NrThreads = int64(int32(n))
		if ts.Sighand, err = r.ptr(task, "task_struct.sighand"); err != nil {
			return nil, err
		}
		if ts.Actions, err = sigActions(r, ts.Sighand); err != nil {
			return nil, err
		}
	}
	flags, err := r.sized(task, "task_struct.thread_info.flags")
	if err != nil {
		return nil, err
	}
	ts.SigPending = flags&(1<<tifSigpending) != 0
	off, err := r.off("task_struct.blocked")
	if err != nil {
		return nil, err
	}
	lo, err := r.word(task+off, "task_struct blocked")
	if err != nil {
		return nil, err
	}
	hi, err := r.word(task+off+8, "task_struct blocked")
	if err != nil {
		return nil, err
	}
	ts.Blocked = hi<<32 | lo
	if ts.Pending, err = r.ptr(task, "task_struct.pending.signal"); err != nil {
		return nil, err
	}
	pendOff, err := r.off("task_struct.pending.list")
	if err != nil {
		return nil, err
	}
	if ts.Queue, err = sigQueue(ctx, r, task+pendOff); err != nil {
		return nil, err
	}
	if actions && ts.SignalStruct != 0 {
		if ts.SharedSignal, err = r.ptr(ts.SignalStruct, "signal_struct.shared_pending.signal"); err != nil {
			return nil, err
		}
		soff, err := r.off("signal_struct.shared_pending.list")
		if err != nil {
			return nil, err
		}
		if ts.SharedQueue, err = sigQueue(ctx, r, ts.SignalStruct+soff); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

func sigActions(r *reader, sighand uint64) ([]SigAction, error) {
	base, err := r.off("sighand_struct.action")
	if err != nil {
		return nil, err
	}
	size, err := r.sizeOf("k_sigaction")
	if err != nil {
		return nil, err
	}
	hOff, err := r.off("k_sigaction.sa.sa_handler")
	if err != nil {
		return nil, err
	}
	fOff, err := r.off("k_sigaction.sa.sa_flags")
	if err != nil {
		return nil, err
	}
	mOff, err := r.off("k_sigaction.sa.sa_mask")
	if err != nil {
		return nil, err
	}
	buf, err := r.read(sighand+base, int(size)*nSig, "sighand_struct action")
	if err != nil {
		return nil, err
	}
	out := make([]SigAction, nSig)
	for i := range out {
		b := buf[int64(i)*size:]
		out[i] = SigAction{
			Addr:    sighand + base + uint64(int64(i)*size),
			Handler: leUint(b[hOff : hOff+8]),
			Flags:   leUint(b[fOff : fOff+8]),
			Mask:    leUint(b[mOff : mOff+8]),
		}
	}
	return out, nil
}

// sigQueue is crash's sigqueue_list() over the sigpending list whose head
// is at head: each entry from the first until one whose next pointer is
// the first again (the head is read on the way and not shown).
func sigQueue(ctx context.Context, r *reader, head uint64) ([]SigQueued, error) {
	first, err := r.word(head, "sigpending list")
	if err != nil {
		return nil, err
	}
	if first == 0 {
		return nil, nil
	}
	// crash's empty_list(first): first->next == first.
	if n, err := r.word(first, "sigqueue"); err != nil {
		return nil, err
	} else if n == first {
		return nil, nil
	}
	infoOff, err := r.off("sigqueue.info")
	if err != nil {
		return nil, err
	}
	listOff, err := r.off("sigqueue.list")
	if err != nil {
		return nil, err
	}
	var out []SigQueued
	for q := first; q != 0; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(out) >= maxSigQueue {
			return out, fmt.Errorf("signal queue at %x: more than %d entries", head, maxSigQueue)
		}
		next, err := r.word(q+listOff, "sigqueue")
		if err != nil {
			return out, err
		}
		signo, err := r.member(q+infoOff, "kernel_siginfo.si_signo", 4)
		if err != nil {
			if signo, err = r.member(q+infoOff, "siginfo.si_signo", 4); err != nil {
				return out, err
			}
		}
		if next == first {
			break
		}
		out = append(out, SigQueued{Signo: int32(signo), Info: q + infoOff})
		q = next
	}
	return out, nil
}
