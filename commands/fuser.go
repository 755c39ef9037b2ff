package commands

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// fuser: crash's filesys.c cmd_fuser. crash runs "foreach files" and
// "foreach vm" with their inode addresses shown (PRINT_INODES) into a
// temporary file and scans its lines for the argument: in a task's ROOT:
// line (root, then cwd), in a descriptor line (fd) and in a VMA line
// (mmap), a match being the argument followed by a space or a newline.
// gocrash builds the same lines from the same walkers and scans them the
// same way, so that what counts as a use is crash's.

func init() {
	register(Command{
		Name:     "fuser",
		Summary:  "file users",
		Synopsis: "[pathname | inode]",
		Description: `  This command displays the tasks using specified files or sockets.  Tasks
  will be listed that reference the file as their current working directory,
  root directory, an open file descriptor, or that mmap the file.  If the
  file is held open in the kernel by the lockd server on behalf of a client
  discretionary file lock, the client hostname is listed.`,
		Operands: []Operand{
			{"pathname", "the full pathname of the file (it must start with /)."},
			{"inode", "the hexadecimal inode address of the file."},
		},
		Columns: []Column{
			{"PID", "the task's pid"},
			{"TASK", "its task_struct"},
			{"COMM", "its command name, quoted and cut to 16 characters as crash cuts it"},
			{"USAGE", "root and cwd: the task's fs root and working directory; fd: an open descriptor; mmap: a mapping of the file"},
		},
		Examples: `  The tasks whose descriptors refer to the console:

    crash> fuser /dev/console
     PID         TASK        COMM             USAGE
        1  ff42bab500198000  "init"           fd
       59  ff42bab501929500  "sleep"          fd
    ...

  Every task has / as its root and working directory:

    crash> fuser /
     PID         TASK        COMM             USAGE
        0  ffffffff8d811600  "swapper/0"      root cwd
        0  ff42bab5001faa00  "swapper/1"      root cwd
    ...
    crash> fuser /nonexistent
    No users of /nonexistent found`,
		Run: runFuser,
	})
}

var fuserHeader = " PID   " + center("TASK", 16, false) + "  COMM             USAGE\n"

func runFuser(s *Session, args []string, w io.Writer) error {
	g := parseFlags("fuser", args)
	for g.next() {
	}
	if g.err != nil {
		return g.err
	}
	specs := g.rest()
	if len(specs) == 0 {
		return &UsageError{Cmd: "fuser"}
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	var text []string // every task's lines, built at the first argument
	for _, spec := range specs {
		addr, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(spec, "0x"), "0X"), 16, 64)
		if (err != nil || addr < s.kernelStart()) && !strings.HasPrefix(spec, "/") {
			return fmt.Errorf("invalid argument: %s", spec)
		}
		if strings.HasPrefix(spec, "0x") && err == nil {
			spec = spec[2:]
		}
		if text == nil {
			if text, err = s.fuserText(tt); err != nil {
				return err
			}
		}
		if !fuserScan(bw, text, spec) {
			fmt.Fprintf(bw, "No users of %s found\n", spec)
		}
	}
	return nil
}

// fuserText is what crash's foreach files (PRINT_INODES) and foreach vm
// (PRINT_INODES) print for every task, as lines ending in "\n": the task's
// header, its ROOT: line, its descriptors and its VMAs. The VM data line
// and numbers no scan looks at are left out.
func (s *Session) fuserText(tt *taskTable) ([]string, error) {
	t, err := s.Types()
	if err != nil {
		return nil, err
	}
	inodeOf := func(dentry uint64) uint64 {
		d, err := t.Object(s.Mem, dentry, "dentry")
		if err != nil {
			return 0
		}
		m, err := d.Member("d_inode")
		if err != nil {
			return 0
		}
		v, _ := m.Uint()
		return v
	}
	fileInode := func(file uint64) uint64 {
		f, err := t.Object(s.Mem, file, "file")
		if err != nil {
			return 0
		}
		m, err := f.Member("f_path.dentry")
		if err != nil {
			return 0
		}
		d, _ := m.Uint()
		if d == 0 {
			return 0
		}
		return inodeOf(d)
	}
	var out []string
	for i := range tt.tasks {
		task := &tt.tasks[i]
		if err := s.Ctx().Err(); err != nil {
			return nil, err
		}
		out = append(out, taskHeader(task))
		// A task crash cannot read is left out of its scan (foreach's
		// longjmp to the next task); so it is here.
		if tf, err := s.Kernel.TaskFiles(s.Ctx(), task.Addr, false); err == nil {
			if tf.HasFS {
				if tf.RootDentry != 0 && tf.CwdDentry != 0 {
					out = append(out, fmt.Sprintf("ROOT: %x %s    CWD: %x %s\n", inodeOf(tf.RootDentry), tf.Root, inodeOf(tf.CwdDentry), tf.Cwd))
				} else {
					out = append(out, fmt.Sprintf("ROOT: %s    CWD: %s\n", tf.Root, tf.Cwd))
				}
			}
			if len(tf.Files) == 0 {
				out = append(out, "No open files\n")
			} else {
				out = append(out, filesHeader(false))
				for j := range tf.Files {
					out = append(out, fileLine(&tf.Files[j], false))
				}
			}
		}
		out = append(out, center("MM", 16, false)+"  "+center("PGD", 16, false)+"  "+center("RSS", 6, false)+"  "+center("TOTAL_VM", 8, false)+"\n")
		if task.MM == 0 {
			continue
		}
		vmas, err := s.Kernel.VMAInfos(s.Ctx(), task.MM)
		if err != nil && len(vmas) == 0 {
			continue
		}
		out = append(out, vmaHeader)
		for j := range vmas {
			v := &vmas[j]
			if ino := fileInode(v.File); v.File != 0 && ino != 0 {
				out = append(out, fmt.Sprintf("%x %10x %10x %6x %x %s\n", v.Addr, v.Start, v.End, v.Flags, ino, v.Path))
			} else {
				out = append(out, vmaLine(v))
			}
		}
	}
	return out, nil
}

// fuserScan is cmd_fuser's scan of the lines for spec; it reports whether
// a use was found.
func fuserScan(w *bufio.Writer, text []string, spec string) bool {
	n := len(spec)
	// at is crash's strstr(buf, spec) followed by a space or a newline.
	at := func(line string) int {
		i := strings.Index(line, spec)
		if i < 0 || i+n >= len(line) || line[i+n] != ' ' && line[i+n] != '\n' {
			return -1
		}
		return i
	}
	printed := false
	task, uses := "", ""
	flush := func() {
		if uses == "" {
			return
		}
		if !printed {
			w.WriteString(fuserHeader)
			printed = true
		}
		w.WriteString(fuserLine(task, uses))
		uses = ""
	}
	doingFDs, doingMmap := false, false
	for _, line := range text {
		switch {
		case strings.HasPrefix(line, "PID:"):
			flush()
			task = line
			doingFDs, doingMmap = false, false
		case strings.HasPrefix(line, "ROOT:"):
			if i := at(line); i >= 0 {
				rest := line[i:]
				if strings.Contains(rest, "CWD:") {
					uses += "root "
					if at(rest[n:]) >= 0 {
						uses += "cwd "
					}
				} else {
					uses += "cwd "
				}
			}
		case strings.Contains(line, "DENTRY"):
			doingFDs = true
		case strings.Contains(line, "TOTAL_VM"):
			doingFDs = false
		case strings.Contains(line, " VMA "):
			doingMmap, doingFDs = true, false
		case at(line) >= 0:
			if doingFDs {
				uses += "fd "
				doingFDs = false
			}
			if doingMmap {
				uses += "mmap "
				doingMmap = false
			}
		}
	}
	flush()
	return printed
}

// fuserLine is crash's show_fuser: the pid, the task right-justified and
// the COMMAND: field's first 16 bytes with its last one made a space (the
// newline of a short name, the 16th character of a long one).
func fuserLine(header, uses string) string {
	field := func(key string) string {
		i := strings.Index(header, key)
		if i < 0 {
			return ""
		}
		return header[i+len(key):]
	}
	pid, _, _ := strings.Cut(field("PID: "), " ")
	if len(pid) > 10 {
		pid = pid[:10]
	}
	task, _, _ := strings.Cut(strings.TrimLeft(field("TASK: "), " "), " ")
	comm := field("COMMAND: ")
	if len(comm) > 16 {
		comm = comm[:16]
	}
	b := []byte(comm)
	for i := max(len(b)-1, 0); i < 16; i++ {
		if i < len(b) {
			b[i] = ' '
		} else {
			b = append(b, ' ')
		}
	}
	return fmt.Sprintf("%5s  %16s  %s %s\n", pid, task, b, uses)
}
