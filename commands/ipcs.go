package commands

import (
	"bufio"
	"fmt"
	"io"

	"gocrash/kernel"
)

// ipcs: crash's ipcs.c cmd_ipcs — the System V shared memory segments,
// semaphore arrays and message queues of a task's IPC namespace
// (init_task's by default), with crash's layout.

func init() {
	register(Command{
		Name:     "ipcs",
		Summary:  "System V IPC facilities",
		Synopsis: "[-smMq] [-n pid|task] [id | addr]",
		Description: `  This command provides information on the System V IPC facilities.  With no
  arguments, the command will display kernel usage of all three facilities.`,
		Flags: []Flag{
			{Name: "s", Help: "show semaphore arrays."},
			{Name: "m", Help: "show shared memory segments."},
			{Name: "M", Help: "show shared memory segments with additional details: the pages allocated, resident and swapped, and the shmem inode."},
			{Name: "q", Help: "show message queues."},
			{Name: "n", Arg: "pid|task", Help: "show the IPC facilities of the namespace of this task (a PID or a task_struct address); otherwise init_task's."},
		},
		Operands: []Operand{
			{"id", "show the data associated with this resource ID."},
			{"addr", "show the data associated with this shmid_kernel, sem_array or msg_queue address."},
		},
		Examples: `  The sample dump's workload uses no System V IPC:

    crash> ipcs
    SHMID_KERNEL     KEY      SHMID      UID   PERMS BYTES      NATTCH STATUS
    (none allocated)

    SEM_ARRAY        KEY      SEMID      UID   PERMS NSEMS
    (none allocated)

    MSG_QUEUE        KEY      MSQID      UID   PERMS USED-BYTES   MESSAGES
    (none allocated)
    crash> ipcs 0
    invalid id or address: 0`,
		Run: runIpcs,
	})
}

const (
	shmHdr = "SHMID_KERNEL     KEY      SHMID      UID   PERMS BYTES      NATTCH STATUS\n"
	semHdr = "SEM_ARRAY        KEY      SEMID      UID   PERMS NSEMS     \n"
	msgHdr = "MSG_QUEUE        KEY      MSQID      UID   PERMS USED-BYTES   MESSAGES    \n"

	shmDest   = 01000 // SHM_DEST
	shmLocked = 02000 // SHM_LOCKED
)

func runIpcs(s *Session, args []string, w io.Writer) error {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	g := parseFlags("ipcs", args)
	var shm, sem, msg, verbose bool
	nsArg := ""
	for g.next() {
		switch g.flag {
		case "s":
			sem = true
		case "m":
			shm = true
		case "M":
			shm, verbose = true, true
		case "q":
			msg = true
		case "n":
			nsArg = g.val
		}
	}
	if g.err != nil {
		return g.err
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	var task uint64
	if nsArg != "" {
		t, err := tt.lookup(nsArg)
		if err != nil {
			return fmt.Errorf("invalid task or pid value: %s", nsArg)
		}
		task = t.Addr
	} else if t := tt.byPID(0); t != nil {
		task = t.Addr
	} else {
		return fmt.Errorf("no task of pid 0")
	}
	var values []uint64
	for _, a := range g.rest() {
		v, err := crashStol(a)
		if err != nil {
			return err
		}
		values = append(values, v)
	}
	if !shm && !sem && !msg {
		shm, sem, msg = true, true, true
	}
	r := ipcsRun{s: s, w: bw, task: task, verbose: verbose}
	if len(values) == 0 {
		for _, f := range []struct {
			on   bool
			kind kernel.IPCKind
		}{{shm, kernel.IPCShm}, {sem, kernel.IPCSem}, {msg, kernel.IPCMsg}} {
			if f.on {
				if _, err := r.dump(f.kind, false, 0); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for i, v := range values {
		found := false
		for _, f := range []struct {
			on   bool
			kind kernel.IPCKind
		}{{shm, kernel.IPCShm}, {sem, kernel.IPCSem}, {msg, kernel.IPCMsg}} {
			if f.on {
				ok, err := r.dump(f.kind, true, v)
				if err != nil {
					return err
				}
				found = found || ok
			}
		}
		if !found {
			fmt.Fprintf(bw, "invalid id or address: %s\n\n", g.rest()[i])
		}
	}
	return nil
}

type ipcsRun struct {
	s       *Session
	w       *bufio.Writer
	task    uint64
	verbose bool
}

// dump is crash's dump_shared_memory / dump_semaphore_arrays /
// dump_message_queues with ipc_search_idr: everything, or (specified)
// the object whose id or address is value. It reports whether one was
// shown (always true for everything, once the facility has objects).
func (r *ipcsRun) dump(kind kernel.IPCKind, specified bool, value uint64) (bool, error) {
	verbose := r.verbose && kind == kernel.IPCShm
	hdr := map[kernel.IPCKind]string{kernel.IPCShm: shmHdr, kernel.IPCSem: semHdr, kernel.IPCMsg: msgHdr}[kind]
	if !specified && !verbose {
		r.w.WriteString(hdr)
	}
	set, err := r.s.Kernel.IPCs(r.s.Ctx(), r.task, kind)
	if err != nil && set == nil {
		return false, err
	}
	if set.InUse == 0 {
		if !specified {
			if verbose {
				r.w.WriteString(hdr)
			}
			r.w.WriteString("(none allocated)\n\n")
		}
		return false, err
	}
	found := false
	for _, o := range set.Objects {
		if o.Deleted {
			continue
		}
		if specified && uint64(o.ID) != value && o.Addr != value {
			continue
		}
		found = true
		if verbose || specified {
			r.w.WriteString(hdr)
		}
		addr := fmt.Sprintf("%-16x", o.Addr)
		switch kind {
		case kernel.IPCShm:
			status := ""
			if o.Mode&shmDest != 0 {
				status = "dest"
			}
			locked := ""
			if o.Mode&shmLocked != 0 {
				locked = "locked"
			}
			fmt.Fprintf(r.w, "%s %08x %-10d %-5d %-5o %-10d %-6d %s %s\n", addr, o.Key, o.ID, o.UID, o.Mode&0777, o.Bytes, o.Nattch, status, locked)
			if verbose {
				fmt.Fprintf(r.w, "PAGES ALLOCATED/RESIDENT/SWAPPED: %d/%d/%d\n", (o.Bytes+4095)>>12, o.RSS, o.Swap)
				fmt.Fprintf(r.w, "INODE: %x\n", o.Inode)
			}
		case kernel.IPCSem:
			fmt.Fprintf(r.w, "%s %08x %-10d %-5d %-5o %-10d\n", addr, o.Key, o.ID, o.UID, o.Mode&0777, o.NSems)
		case kernel.IPCMsg:
			fmt.Fprintf(r.w, "%s %08x %-10d %-5d %-5o %-12d %-12d\n", addr, o.Key, o.ID, o.UID, o.Mode&0777, o.QBytes, o.QNum)
		}
		if verbose || specified {
			r.w.WriteString("\n")
		}
		if specified {
			break
		}
	}
	if !verbose && !specified {
		r.w.WriteString("\n")
	}
	return found || !specified, err
}
