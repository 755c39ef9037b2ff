package commands

// files: a task's root and working directory and its open files (crash's
// filesys.c cmd_files(), open_files_dump(), file_dump()).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gocrash/kernel"
)

func init() {
	register(Command{
		Name:     "files",
		Summary:  "open files",
		Synopsis: "[-d dentry] | [-p inode] | [-c] [-R reference] [pid | taskp] ... ",
		Description: `  This command displays information about open files of a context.
  It prints the context's current root directory and current working
  directory, and then for each open file descriptor it prints a pointer
  to its file struct, a pointer to its dentry struct, a pointer to the
  inode, the file type, and the pathname.  If no arguments are entered,
  the current context is used.  The -R option, typically invoked from
  "foreach files", searches for references to a supplied number, address,
  or filename argument, and prints only the essential information leading
  up to and including the reference.  The -d option is not context
  specific, and only shows the data requested.`,
		Flags: []Flag{
			{Name: "d", Arg: "dentry", Help: "given a hexadecimal dentry address, display its inode, super block, file type, and full pathname."},
			{Name: "p", Arg: "inode", Help: "given a hexadecimal inode address, dump all of its pages that are in the page cache."},
			{Name: "c", Help: "for each open file descriptor, prints a pointer to its inode, a pointer to the inode's i_mapping address_space structure, the number of pages of the inode that are in the page cache, the file type, and the pathname."},
			{Name: "R", Arg: "reference", Help: "search for references to this file descriptor number, filename, dentry, inode, address_space, or file structure address."},
		},
		Operands: []Operand{
			{"pid", "a process PID."},
			{"taskp", "a hexadecimal task_struct pointer."},
		},
		Examples: `  Display the open files of the current context:

    crash> files
    PID: 1        TASK: ff42bab500198000  CPU: 0    COMMAND: "init"
    ROOT: /    CWD: /
     FD       FILE            DENTRY           INODE       TYPE PATH
      0 ff42bab5018bc000 ff42bab5004109c0 ff42bab500174b80 CHR  /dev/console
      1 ff42bab501a9de00 ff42bab5004939c0 ff42bab500460f78 REG  /proc/sysrq-trigger
      2 ff42bab5018bc000 ff42bab5004109c0 ff42bab500174b80 CHR  /dev/console
     10 ff42bab5018bc100 ff42bab500411600 ff42bab5001769c0 REG  /init
     11 ff42bab5018bc000 ff42bab5004109c0 ff42bab500174b80 CHR  /dev/console

  The page cache use of each file of PID 1:

    crash> files -c 1

  The pages of /init (its inode, from the INODE column above) in the
  page cache:

    crash> files -p ff42bab5001769c0
         INODE        NRPAGES
    ff42bab5001769c0        2

          PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS
    ffcc70a040031500   c54000 ff42bab500176b10        0  1 8003e referenced,uptodate,dirty,lru,active,swapbacked
          PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS
    ffcc70a040031540   c55000 ff42bab500176b10        1  1 8003c uptodate,dirty,lru,active,swapbacked

  Which tasks hold /dev/console open:

    crash> foreach files -R console`,
		Columns: []Column{
			{"FD", "the file descriptor: the bit's index in fdtable.open_fds"},
			{"FILE", "the struct file of fdtable.fd[FD]"},
			{"DENTRY", "file->f_path.dentry"},
			{"INODE", "dentry->d_inode"},
			{"TYPE", "from inode->i_mode: REG, DIR, CHR, BLK, LNK, FIFO, PIPE (a pipe), SOCK"},
			{"PATH", "the names up the d_parent chain, across mounts to the root (fs/mount.h: mnt_mountpoint, mnt_parent)"},
		},
		Run: runFiles,
	})
	foreachKeywords["files"] = foreachCommand{start: foreachFiles}
}

// filesRun is one files command: the walker and what each task's dump
// shares.
type filesRun struct {
	s       *Session
	w       io.Writer
	tt      *taskTable
	nrpages bool
	ref     string // -R, "" for none
}

func (s *Session) newFilesRun(w io.Writer, tt *taskTable) (*filesRun, error) {
	if _, err := s.Types(); err != nil {
		return nil, err
	}
	return &filesRun{s: s, w: w, tt: tt}, nil
}

func runFiles(s *Session, args []string, w io.Writer) error {
	var (
		nrpages bool
		ref     string
		refs    int
		dentry  string
		inode   string
	)
	g := parseFlags("files", args)
	for g.next() {
		switch g.flag {
		case "R":
			if refs++; refs > 1 {
				fmt.Fprintf(w, "files: only one -R option allowed\n")
				return &UsageError{Cmd: "files"}
			}
			ref = g.val
		case "d":
			dentry = g.val
		case "p":
			inode = g.val
		case "c":
			nrpages = true
		}
		if dentry != "" || inode != "" {
			break
		}
	}
	if g.err != nil {
		return g.err
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	r, err := s.newFilesRun(w, tt)
	if err != nil {
		return err
	}
	r.nrpages, r.ref = nrpages, ref
	if dentry != "" {
		return r.dentryInfo(dentry)
	}
	if inode != "" {
		return r.inodePages(inode)
	}
	rest := g.rest()
	if len(rest) == 0 {
		ctx, err := s.Context()
		if err != nil {
			return err
		}
		t := tt.byTask(ctx)
		if t == nil {
			return fmt.Errorf("context task %x is not in the task table", ctx)
		}
		if ref == "" {
			io.WriteString(w, taskHeader(t))
		}
		return r.dump(t)
	}
	var failed error
	for i, a := range rest {
		pid, task, ok := tt.strToContext(a)
		if !ok {
			fmt.Fprintf(w, "files: invalid task or pid value: %s\n", a)
			failed = fmt.Errorf("invalid task or pid value: %s", a)
			continue
		}
		list := tt.selected(pid, task)
		for _, t := range list {
			if ref == "" {
				nl := ""
				if i > 0 {
					nl = "\n"
				}
				io.WriteString(w, nl+taskHeader(t))
			}
			if err := r.dump(t); err != nil {
				fmt.Fprintf(w, "files: %v\n", err)
				failed = err
			}
			if task == 0 {
				io.WriteString(w, "\n")
			}
		}
	}
	if failed != nil {
		return &printedError{err: failed}
	}
	return nil
}

// filesHeader is crash's files_header.
func filesHeader(nrpages bool) string {
	if nrpages {
		return " FD " + center("INODE", 16, false) + " " + center("I_MAPPING", 16, false) + " NRPAGES TYPE PATH\n"
	}
	return " FD " + center("FILE", 16, false) + " " + center("DENTRY", 16, false) + " " + center("INODE", 16, false) + " TYPE PATH\n"
}

// fileLine is crash's file_dump() line for one descriptor.
func fileLine(f *kernel.FileInfo, nrpages bool) string {
	hex := func(v uint64) string { return center(strconv.FormatUint(v, 16), 16, true) }
	switch {
	case f.Dentry == 0:
		return fmt.Sprintf("%3d %s %016x %s ?    ?\n", f.FD, hex(f.File), 0, center("?", 16, false))
	case f.Inode == 0:
		return fmt.Sprintf("%3d %s %s %016x ?    ?\n", f.FD, hex(f.File), hex(f.Dentry), 0)
	}
	typ, path := inodeType(f.Mode, f.Pipe, f.Path)
	if nrpages {
		return fmt.Sprintf("%3d %s %s %7d %s %s\n", f.FD, hex(f.Inode), hex(f.Mapping), f.NrPages, typ, path)
	}
	return fmt.Sprintf("%3d %s %s %s %s %s\n", f.FD, hex(f.File), hex(f.Dentry), hex(f.Inode), typ, path)
}

// dump is crash's open_files_dump() for one task.
func (r *filesRun) dump(t *Task) error {
	tf, err := r.s.TaskFiles(r.s.Ctx(), t.Addr, r.nrpages)
	if err != nil {
		return err
	}
	if r.ref != "" {
		return r.dumpRef(t, tf)
	}
	var b strings.Builder
	if tf.HasFS {
		fmt.Fprintf(&b, "ROOT: %s    CWD: %s\n", tf.Root, tf.Cwd)
	}
	if len(tf.Files) == 0 {
		b.WriteString("No open files\n")
	} else {
		b.WriteString(filesHeader(r.nrpages))
		for i := range tf.Files {
			b.WriteString(fileLine(&tf.Files[i], r.nrpages))
		}
	}
	_, err = io.WriteString(r.w, b.String())
	return err
}

// filenameComponent is crash's FILENAME_COMPONENT(path, ref).
func filenameComponent(path, ref string) bool {
	return path == "/" && ref == "/" || ref != "/" && strings.Contains(path, ref)
}

// dumpRef is open_files_dump() with -R: only the files that match the
// reference, with the task header and ROOT/CWD line before the first.
func (r *filesRun) dumpRef(t *Task, tf *kernel.TaskFiles) error {
	var b strings.Builder
	rootShown, headerShown, found := false, false, false
	if tf.HasFS {
		if filenameComponent(tf.Root, r.ref) || filenameComponent(tf.Cwd, r.ref) {
			b.WriteString(taskHeader(t))
			fmt.Fprintf(&b, "ROOT: %s    CWD: %s \n", tf.Root, tf.Cwd)
			rootShown, found = true, true
		}
	}
	if tf.HasTable {
		const (
			refHex = 1 << iota
			refDec
		)
		kind := 0
		var hexval, decval uint64
		if isNumber(r.ref) {
			if hexOnly(r.ref) {
				hexval, _ = parseTaskHex(r.ref)
				kind = refHex
			} else if v, err := strconv.ParseUint(r.ref, 10, 64); err == nil && v <= uint64(r.maxFDs(t)) {
				decval, kind = v, refDec
			} else {
				hexval, _ = parseTaskHex(r.ref)
				kind = refHex
			}
		}
		for i := range tf.Files {
			f := &tf.Files[i]
			line := fileLine(f, r.nrpages)
			words := strings.Fields(line)
			if len(words) < 5 {
				continue
			}
			match := false
			if kind != 0 {
				fd := uint64(f.FD)
				if kind == refHex && fd == hexval || kind == refDec && fd == decval {
					match = true
				}
				for _, w := range words[1:4] {
					if w == "?" {
						continue
					}
					if v, ok := parseTaskHex(w); ok && kind == refHex && v == hexval {
						match = true
					}
				}
			}
			if r.ref == words[4] || len(words) == 6 && filenameComponent(words[5], r.ref) {
				match = true
			}
			if !match {
				continue
			}
			if !rootShown {
				b.WriteString(taskHeader(t))
				if tf.HasFS {
					fmt.Fprintf(&b, "ROOT: %s    CWD: %s \n", tf.Root, tf.Cwd)
				}
				rootShown = true
			}
			if !headerShown {
				b.WriteString(filesHeader(r.nrpages))
				headerShown = true
			}
			b.WriteString(line)
			found = true
		}
	}
	if found {
		b.WriteString("\n")
	}
	_, err := io.WriteString(r.w, b.String())
	return err
}

// maxFDs is the task's fdtable.max_fds (0 when unreadable), for -R's
// choice between a descriptor number and an address.
func (r *filesRun) maxFDs(t *Task) uint64 {
	n, _ := r.s.MaxFDs(t.Addr)
	return n
}

// hexOnly is crash's hexadecimal_only(): hex digits with at least one
// of a-f or x.
func hexOnly(s string) bool {
	only := 0
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == 'x', c == 'X':
			only++
		case c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return only > 0
}

// foreachFiles runs files on each task (crash: -c and -R pass through;
// -p is refused).
func foreachFiles(s *Session, f *foreachSpec, tt *taskTable, w io.Writer) (foreachRunner, error) {
	if f.has('p') {
		return foreachRunner{}, errors.New("files command does not support -p option")
	}
	r, err := s.newFilesRun(w, tt)
	if err != nil {
		return foreachRunner{}, err
	}
	r.nrpages, r.ref = f.has('c'), f.ref
	return foreachRunner{header: true, run: r.dump}, nil
}

// dentryInfo is crash's display_dentry_info() (files -d).
func (r *filesRun) dentryInfo(arg string) error {
	// crash: htol(FAULT_ON_ERROR), then fill_dentry_cache() reads the
	// whole dentry, after the header.
	dentry, err := parseHex(arg)
	if err != nil {
		return err
	}
	init := r.tt.byPID(1)
	if init == nil {
		return errors.New("no pid 1: cannot find the mount list")
	}
	io.WriteString(r.w, center("DENTRY", 16, false)+" "+center("INODE", 16, false)+" "+center("SUPERBLK", 16, false)+" TYPE PATH\n")
	if t, err := r.s.Types(); err == nil {
		if size, err := t.SizeOf("dentry"); err == nil {
			if err := r.s.Mem.ReadVirt(make([]byte, size), dentry); err != nil {
				return classifyReadError(err, kvaddr, dentry, "fill_dentry_cache", r.s.dumpFormat())
			}
		}
	}
	di, err := r.s.DentryInfo(r.s.Ctx(), dentry, init.Addr)
	if err != nil {
		return err
	}
	typ, path := "N/A", di.Path
	if di.Inode != 0 {
		typ, path = inodeType(di.Mode, di.Pipe, path)
	}
	hex := func(v uint64) string { return fmt.Sprintf("%16x", v) }
	_, err = fmt.Fprintf(r.w, "%s %s %s %s %s\n", hex(di.Dentry), hex(di.Inode), center(strconv.FormatUint(di.SuperBlock, 16), 16, false), typ, path)
	return err
}

// inode modes (include/uapi/linux/stat.h).
const (
	sIFMT   = 0170000
	sIFSOCK = 0140000
	sIFLNK  = 0120000
	sIFREG  = 0100000
	sIFBLK  = 0060000
	sIFDIR  = 0040000
	sIFCHR  = 0020000
	sIFIFO  = 0010000
)

// inodeType is crash's inode_type(): the four-letter type, and the path
// to show (a pipe's and a socket at "/" show none).
func inodeType(mode uint32, pipe bool, path string) (string, string) {
	switch mode & sIFMT {
	case sIFREG:
		return "REG ", path
	case sIFLNK:
		return "LNK ", path
	case sIFDIR:
		return "DIR ", path
	case sIFCHR:
		return "CHR ", path
	case sIFBLK:
		return "BLK ", path
	case sIFIFO:
		if pipe {
			return "PIPE", ""
		}
		return "FIFO", path
	case sIFSOCK:
		if path == "/" {
			path = ""
		}
		return "SOCK", path
	}
	return "UNKN", path
}

// inodePages is files -p: the inode's page cache (crash's
// dump_inode_page_cache_info(): INODE and NRPAGES, then each page as
// kmem -p shows it, its header before each).
func (r *filesRun) inodePages(arg string) error {
	inode, err := parseHex(arg) // crash: htol(FAULT_ON_ERROR)
	if err != nil {
		return err
	}
	s := r.s
	// crash reads the whole inode first, and its message is readmem's.
	t, err := s.Types()
	if err != nil {
		return err
	}
	size, err := t.SizeOf("inode")
	if err != nil {
		return err
	}
	if err := s.Mem.ReadVirt(make([]byte, size), inode); err != nil {
		return classifyReadError(err, kvaddr, inode, "inode buffer", s.dumpFormat())
	}
	pc, err := s.InodePages(s.Ctx(), inode)
	if pc == nil {
		return err
	}
	w := bufio.NewWriter(r.w)
	defer w.Flush()
	fmt.Fprintf(w, "%s  NRPAGES\n", center("INODE", 16, false))
	fmt.Fprintf(w, "%s  %7d\n\n", center(strconv.FormatUint(inode, 16), 16, true), pc.NrPages)
	if err != nil {
		return err
	}
	if pc.NrPages == 0 {
		return nil
	}
	sl, err := s.pages()
	if err != nil {
		return err
	}
	for _, p := range pc.Pages {
		if err := s.Ctx().Err(); err != nil {
			return err
		}
		pfn, ok := sl.PagePFN(p)
		if !ok {
			continue // crash's is_page_ptr() check
		}
		if err := s.writePage(w, p, pfn<<12); err != nil {
			return err
		}
	}
	if pc.Entries != pc.NrPages {
		fmt.Fprintf(w, "files: xarray page count: %d  nrpages: %d\n", pc.Entries, pc.NrPages)
	}
	return nil
}
