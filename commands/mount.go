package commands

import (
	"bufio"
	"fmt"
	"io"

	"gocrash/kernel"
)

func init() {
	register(Command{
		Name:     "mount",
		Summary:  "mounted filesystem data",
		Synopsis: "[-f][-i] [-n pid|task] [mount|vfsmount|superblock|dev|dir|dentry|inode]",
		Description: `  This command displays basic information about the currently-mounted
  filesystems: the struct mount and super_block addresses, the filesystem
  type, the device name and the mount point, for the mount namespace of
  the first task (PID 1) or of the task given with -n.`,
		Flags: []Flag{
			{Name: "f", Help: "dump each filesystem's list of open files (super_block.s_files: gone from the kernel since 3.x, crash's message then)."},
			{Name: "i", Help: "dump each filesystem's dirty inodes (super_block.s_dirty: gone from the kernel since 2.6.x, crash's message then)."},
			{Name: "n", Arg: "pid|task", Help: "the mount namespace of this task instead of PID 1's."},
		},
		Columns: []Column{
			{"MOUNT", "the struct mount (fs/mount.h) of each mount of the namespace"},
			{"SUPERBLK", "mnt.mnt_sb: the file system's super_block"},
			{"TYPE", "mnt_sb->s_type->name"},
			{"DEVNAME", "mnt_devname: what was mounted"},
			{"DIRNAME", "the mount point, a path built from mnt_mountpoint up through the parent mounts"},
		},
		Examples: `  The mounts of the sample dump:

    crash> mount
         MOUNT           SUPERBLK     TYPE   DEVNAME   DIRNAME
    ff42bab50015d140 ff42bab500179000 rootfs rootfs    /
    ff42bab50015dc80 ff42bab500951800 proc   proc      /proc
    ff42bab50015ddc0 ff42bab500952000 sysfs  sys       /sys
    ff42bab501964000 ff42bab50017c000 devtmpfs dev     /dev
    ff42bab5008463c0 ff42bab5018e2000 tmpfs  tmp       /tmp
    ff42bab500846500 ff42bab500952800 ext2   /dev/vdb  /mnt
    ...

  The mounts seen by PID 79 (the shell writing to the frozen ext2
  filesystem):

    crash> mount -n 79`,
		Run: runMount,
	})
}

const mountHdr = "     MOUNT           SUPERBLK     TYPE   DEVNAME   DIRNAME\n"

func runMount(s *Session, args []string, w io.Writer) error {
	var nsArg string
	var files, inodes bool
	g := parseFlags("mount", args)
	for g.next() {
		switch g.flag {
		case "f":
			files = true
		case "i":
			inodes = true
		case "n":
			nsArg = g.val
		}
	}
	if g.err != nil {
		return g.err
	}
	t, err := s.Types()
	if err != nil {
		return err
	}
	if inodes && !t.HasMember("super_block", "s_dirty") {
		io.WriteString(w, "mount: the super_block.s_dirty linked list does not exist in this kernel\n")
		return fmt.Errorf("-i option not supported or applicable on this architecture or kernel")
	}
	task, err := s.mountTask(nsArg)
	if err != nil {
		return err
	}
	rest := g.rest()
	if (files || len(rest) > 0) && !t.HasMember("super_block", "s_files") {
		// crash's search arguments dump with -f first (show_mounts with
		// MOUNT_PRINT_FILES), which fails the same way; with an
		// argument crash's output is its temporary file then, and both
		// lines reach only the terminal, not a redirected command's
		// file: one message the shell prints there.
		if len(rest) > 0 {
			return &stderrError{err: fmt.Errorf("the super_block.s_files linked list does not exist in this kernel\nmount: -f option not supported or applicable on this architecture or kernel")}
		}
		io.WriteString(w, "mount: the super_block.s_files linked list does not exist in this kernel\n")
		return fmt.Errorf("-f option not supported or applicable on this architecture or kernel")
	}
	mounts, err := s.Mounts(s.Ctx(), task.Addr)
	if err != nil && len(mounts) == 0 {
		return err
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	bw.WriteString(mountHdr)
	for _, m := range mounts {
		if m.Err != nil {
			fmt.Fprintf(bw, "mount: WARNING: %v\n", m.Err)
			continue
		}
		writeMountLine(bw, m)
	}
	return err
}

// mountTask is the task whose mount namespace mount shows: -n's, else
// crash's namespace context, the lowest PID from 1 up that exists.
func (s *Session) mountTask(nsArg string) (*Task, error) {
	tt, err := s.taskTable()
	if err != nil {
		return nil, err
	}
	if nsArg != "" {
		task, err := tt.lookup(nsArg)
		if err != nil {
			return nil, fmt.Errorf("invalid task or pid value: %s", nsArg)
		}
		return task, nil
	}
	var task *Task
	for i := range tt.tasks {
		if tt.tasks[i].PID >= 1 && (task == nil || tt.tasks[i].PID < task.PID) {
			task = &tt.tasks[i]
		}
	}
	if task == nil {
		return nil, fmt.Errorf("no task with a PID of 1 or more")
	}
	return task, nil
}

// MountJSON is one line of mount.
type MountJSON struct {
	Mount      Addr   `json:"mount" desc:"MOUNT: the struct mount"`
	Superblock Addr   `json:"superblock" desc:"SUPERBLK: mnt.mnt_sb"`
	Type       string `json:"type" desc:"TYPE: mnt_sb->s_type->name; empty when unreadable (the text's unknown)"`
	DevName    string `json:"devname" desc:"DEVNAME: mnt_devname; empty when unreadable (the text's (unknown))"`
	DirName    string `json:"dirname" desc:"DIRNAME: the mount point"`
	Error      string `json:"error,omitempty" desc:"why the mount could not be read (the text's WARNING line); nothing else is set then"`
}

// mountJSON is mount's JSON: the default format and -n.
func mountJSON(s *Session, args []string) (any, error) {
	var nsArg string
	g := parseFlags("mount", args)
	for g.next() {
		switch g.flag {
		case "n":
			nsArg = g.val
		default:
			return nil, jsonOptionsErr("mount", args)
		}
	}
	if g.err != nil {
		return nil, g.err
	}
	if len(g.rest()) > 0 {
		return nil, jsonOptionsErr("mount", args)
	}
	task, err := s.mountTask(nsArg)
	if err != nil {
		return nil, err
	}
	mounts, err := s.Mounts(s.Ctx(), task.Addr)
	if err != nil {
		return nil, err
	}
	out := []MountJSON{}
	for _, m := range mounts {
		if m.Err != nil {
			out = append(out, MountJSON{Error: m.Err.Error()})
			continue
		}
		j := MountJSON{Mount: Addr(m.Addr), Superblock: Addr(m.Super), DirName: m.DirName}
		if m.TypeOK {
			j.Type = m.Type
		}
		if m.DevOK {
			j.DevName = m.DevName
		}
		out = append(out, j)
	}
	return out, nil
}

// writeMountLine is show_mounts' line: the type and device name are
// padded, then trailing blanks beyond 17 columns are given back, so that a
// long type pushes the device name only as far as it must.
func writeMountLine(w *bufio.Writer, m kernel.Mount) {
	fmt.Fprintf(w, "%16x %16x ", m.Addr, m.Super)
	typ := "unknown "
	if m.TypeOK {
		typ = fmt.Sprintf("%-6s ", m.Type)
	}
	dev := "(unknown)"
	if m.DevOK {
		dev = m.DevName
	}
	b := typ + fmt.Sprintf("%-9s", dev) + " "
	for len(b) > 17 && b[len(b)-2] == ' ' {
		b = b[:len(b)-1]
	}
	w.WriteString(b)
	fmt.Fprintf(w, "%-10s\n", m.DirName)
}
