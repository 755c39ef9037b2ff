package commands

// mod: the loaded modules (crash's kernel.c cmd_mod, do_module_cmd,
// show_module_taint_4_10).

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"gocrash/kernel"
	"gocrash/symbols"
)

func init() {
	register(Command{
		Name:     "mod",
		Synopsis: "-s module [objfile] | -d module | -S [directory] [-D|-t|-r|-R|-o|-g]",
		Summary:  "module information and loading of symbols and debugging data",
		Description: `  With no arguments, this command displays basic information of the currently
  installed modules, consisting of the module address, name, base address,
  size, the object file name (if known), and whether the module was compiled
  with CONFIG_KALLSYMS.`,
		Flags: []Flag{
			{Name: "s", Arg: "module [objfile]", Help: "loads symbolic and debugging data from the object file for the module specified (when no objfile is given, NAME.o, NAME.ko or NAME.ko.debug searched as crash does: under /usr/lib/debug/lib/modules/RELEASE, $CRASH_MODULE_PATH, /lib/modules/RELEASE/updates, /lib/modules/RELEASE and the vmlinux's directory tree; then, gocrash's addition, the current directory), relocated to where the module's sections were loaded: dis and dis -l, dis -s and bt -l then name the module's functions and lines from it, and p, whatis, struct and ptype know its variables and types. Without the vmlinux it loads the file the same way (the dump's directory tree taking the vmlinux's place in the search, the current directory searched last for a file named too); the module's types are known before it from the module's BTF, its variables only after it. A file of another module, or of another build (its GNU build ID or srcversion is not the loaded module's), is refused."},
			{Name: "d", Arg: "module", Help: "deletes the symbolic and debugging data of the module specified."},
			{Name: "S", Arg: "[directory]", Help: "loads symbolic and debugging data from the object file of every loaded module."},
			{Name: "D", Help: "deletes the symbolic and debugging data of all modules."},
			{Name: "t", Help: "displays the contents of each module's \"taints\" bitmask if it is non-zero, translated to the letters of the taint flags (kernel/panic.c taint_flags) that apply to modules."},
			{Name: "r", Help: "passes the -readnow flag to gdb (accepted; changes nothing here)."},
			{Name: "R", Help: "reinitializes module data (a live system only; lists the modules here)."},
			{Name: "o", Help: "loads module symbols with the old mechanism (accepted, as crash does, and changes nothing)."},
			{Name: "g", Help: "with -s or -S, adds a module object's section start and end addresses to its symbol list."},
		},
		Columns: []Column{
			{"MODULE", "the module's struct module (the modules list, kernel/module/main.c)"},
			{"NAME", "module.name"},
			{"BASE", "where its core memory starts: core_layout.base before 6.4; mem[MOD_TEXT].base since (then the column is TEXT_BASE)"},
			{"SIZE", "its core memory in bytes: core_layout.size, or the sum of the core mem[] sizes"},
			{"OBJECT FILE", "the object file mod -s loaded its symbols from, else (not loaded); [CONFIG_KALLSYMS] when the module carries its own symbol table"},
		},
		Examples: `  Display the currently-installed modules (the test bed's module, loaded
  with action=warn: it hit a WARN_ON and stayed loaded):

    crash> mod
         MODULE       NAME                BASE         SIZE  OBJECT FILE
    ffffffffc01dd040  gocrash_oops  ffffffffc01db000  16384  (not loaded)  [CONFIG_KALLSYMS]

  Display the taint flags of the tainted modules (O: out-of-tree):

    crash> mod -t
    NAME          TAINTS
    gocrash_oops  O

  Load the module's object file with its debuginfo, then disassemble the
  function that writes through a NULL pointer on the oops dump, with
  source lines (there are none for this clone the compiler made of it:
  crash prints none either):

    crash> mod -s gocrash_oops gocrash_oops.ko
         MODULE       NAME                BASE         SIZE  OBJECT FILE
    ffffffffc01dd040  gocrash_oops  ffffffffc01db000  16384  gocrash_oops.ko
    crash> dis -l gocrash_write_null.constprop.0
    0xffffffffc01db018 <gocrash_write_null.constprop.0>:	movl   $0x6b6b6b6b,0x0
    0xffffffffc01db023 <gocrash_write_null.constprop.0+11>:	ret`,
		Run: runMod,
	})
}

// modules returns the loaded modules, read once per session.
func (s *Session) modules() ([]*kernel.Module, error) {
	s.mods.once.Do(func() {
		s.mods.list, s.mods.err = s.Kernel.Modules(context.Background())
	})
	return s.mods.list, s.mods.err
}

// moduleCache holds what dis and mod read once per session: the modules
// list, and vmlinux's symbols by the names crash gives them.
type moduleCache struct {
	once sync.Once
	list []*kernel.Module
	err  error

	objMu   sync.Mutex
	objects map[string]*symbols.ModuleObject // mod -s: by module name
}

// moduleObject is the object file mod -s loaded for the module, or nil.
func (s *Session) moduleObject(name string) *symbols.ModuleObject {
	s.mods.objMu.Lock()
	defer s.mods.objMu.Unlock()
	return s.mods.objects[name]
}

// gdbSymbol is gdb's <sym+off> for addr: vmlinux's symbols, then those of
// the module objects mod -s loaded (gdb knows a module's symbols only after
// add-symbol-file): the symbol at or below addr that still covers it.
func (s *Session) gdbSymbol(addr uint64) (string, uint64, bool) {
	if name, off, ok := s.Vmlinux.GDBSymbol(addr); ok {
		return name, off, true
	}
	for _, o := range s.moduleObjects() {
		i := sort.Search(len(o.Symbols), func(i int) bool { return o.Symbols[i].Addr > addr }) - 1
		for ; i >= 0; i-- {
			sym := o.Symbols[i]
			if addr-sym.Addr < max(sym.Size, 1) {
				return sym.Name, addr - sym.Addr, true
			}
			if sym.Size != 0 {
				break
			}
		}
	}
	return "", 0, false
}

// loadedModuleText is crash's is_kernel_text() for addr in module name's
// text once mod -s loaded the module's object file (MOD_LOAD_SYMS): the
// object's code sections where crash placed them (ModuleObject's
// PlaceLikeCrash). A section that no kallsyms symbol of the module lies
// in (a running init function's .init.text: crash reads the symbols that
// outlive init) is not where it was loaded there, and its words are no
// text: bt passes over their frames, as crash does after mod -s. ok is
// false without a loaded object: the caller's own rule holds.
func (s *Session) loadedModuleText(name string, addr uint64) (text, ok bool) {
	o := s.moduleObject(name)
	if o == nil {
		return false, false
	}
	return o.IsCrashText(addr)
}

// moduleSymbol is a module symbol of that name from the modules' own
// symbol tables (kallsyms): crash's symbol table knows them without mod -s.
func (s *Session) moduleSymbol(name string) (kernel.ModuleSymbol, bool) {
	mods, err := s.modules()
	if err != nil {
		return kernel.ModuleSymbol{}, false
	}
	for _, m := range mods {
		for _, ms := range m.Symbols {
			if ms.Name == name {
				return ms, true
			}
		}
	}
	return kernel.ModuleSymbol{}, false
}

// moduleObjects are the module objects mod -s loaded, by module name.
func (s *Session) moduleObjects() []*symbols.ModuleObject {
	s.mods.objMu.Lock()
	defer s.mods.objMu.Unlock()
	names := make([]string, 0, len(s.mods.objects))
	for n := range s.mods.objects {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*symbols.ModuleObject, 0, len(names))
	for _, n := range names {
		out = append(out, s.mods.objects[n])
	}
	return out
}

// loadModuleTypes makes the loaded modules' BTF types known to the type
// commands (struct, union, whatis, ptype, p, list, a type name as a
// command) in a session without the vmlinux, on the first of them: there
// is no object file to load them from, and crash could not start at all.
// With the vmlinux a module's types are its object file's, after mod -s,
// as crash's.
func (s *Session) loadModuleTypes() {
	if s == nil || s.Kernel == nil || !s.Kernel.NoDebuginfo() {
		return
	}
	_ = s.Kernel.LoadModuleTypes(context.Background())
}

func (s *Session) setModuleObject(name string, o *symbols.ModuleObject) {
	// The object file's types, after the kernel's, for every type name
	// (gdb's add-symbol-file).
	if t, err := s.Types(); err == nil {
		var mt *symbols.Types
		if o != nil {
			mt = o.Types()
		}
		t.SetModuleTypes(name, true, mt)
	}
	s.mods.objMu.Lock()
	defer s.mods.objMu.Unlock()
	if o == nil {
		delete(s.mods.objects, name)
		return
	}
	if s.mods.objects == nil {
		s.mods.objects = map[string]*symbols.ModuleObject{}
	}
	s.mods.objects[name] = o
}

// symbolsStrippedTo are vmlinux's symbols whose names crash keeps as name
// (clone suffixes stripped: "foo.isra.0" is "foo"), the ones LookupSymbol
// does not find by that name: several functions may share one (crash's
// "duplicate text symbols"). One pass over the table, comparing only the
// names that start with name: cheaper for a command's few look-ups than
// a map of every name.
func (s *Session) symbolsStrippedTo(name string) []symbols.Symbol {
	var out []symbols.Symbol
	for _, sym := range s.Vmlinux.SymbolsWithPrefix(name) {
		if sym.Kind == 'A' || sym.Kind == 'N' {
			continue
		}
		if len(sym.Name) == len(name) || stripSymbolEnd(sym.Name) == name {
			out = append(out, sym)
		}
	}
	return out
}

func runMod(s *Session, args []string, w io.Writer) error {
	mods, err := s.modules()
	if err != nil {
		return err
	}
	if len(mods) == 0 {
		fmt.Fprintln(w, "no modules installed")
		return nil
	}
	// crash takes -g and -r out of any option word first.
	var rest []string
	for _, a := range args {
		if a == "-g" || a == "-r" {
			continue
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			a = "-" + strings.NewReplacer("g", "", "r", "").Replace(a[1:])
			if a == "-" {
				continue
			}
		}
		rest = append(rest, a)
	}
	const (
		list = iota
		loadOne
		loadAll
		deleteOne
		deleteAll
		taints
		reinit
	)
	flag := list
	var modName string
	var mod *kernel.Module
	g := newGetopt("mod", rest)
	set := func(f int) error {
		if flag != list {
			return &UsageError{Cmd: "mod"}
		}
		flag = f
		return nil
	}
	for {
		c, ok := g.next()
		if !ok {
			break
		}
		switch c {
		case 'R':
			if err := set(reinit); err != nil {
				return err
			}
		case 'D':
			if err := set(deleteAll); err != nil {
				return err
			}
		case 'o':
			if flag != list {
				return &UsageError{Cmd: "mod"}
			}
			return nil
		case 'S':
			if err := set(loadAll); err != nil {
				return err
			}
		case 't':
			if err := set(taints); err != nil {
				return err
			}
		case 's', 'd':
			f := loadOne
			if c == 'd' {
				f = deleteOne
			}
			if err := set(f); err != nil {
				return err
			}
			a, err := g.arg()
			if err != nil {
				return &UsageError{Cmd: "mod", Reason: err.Error()}
			}
			m := findModule(mods, a)
			if m == nil {
				return &UsageError{Cmd: "mod"}
			}
			modName, mod = m.Name, m
		default:
			return &UsageError{Cmd: "mod"} // getopt's complaint goes to stderr
		}
	}
	operands := g.rest()
	switch flag {
	case list:
		writeModules(s, w, mods, nil)
		return nil
	case taints:
		return writeModuleTaints(s, w, mods)
	case reinit:
		// crash: reinitializing makes sense on a live system only.
		writeModules(s, w, mods, nil)
		return nil
	case deleteOne:
		s.setModuleObject(modName, nil)
		return nil
	case deleteAll:
		for _, m := range mods {
			s.setModuleObject(m.Name, nil)
		}
		return nil
	case loadOne:
		var file string
		switch len(operands) {
		case 0:
			if file = findModuleObject(s, modName, "", false); file == "" {
				return fmt.Errorf("cannot find or load object file for %s module", modName)
			}
		case 1:
			file = operands[0]
			if !fileExists(file) {
				if file = findModuleObject(s, modName, "", true); file == "" {
					return fmt.Errorf("%s: cannot find or load object file: %s", modName, operands[0])
				}
			}
		default:
			return &UsageError{Cmd: "mod"}
		}
		if !isELFFile(file) {
			return &UsageError{Cmd: "mod", Reason: file + ": not an ELF format object file"}
		}
		if s.moduleObject(modName) == nil {
			o, err := loadModuleObject(s, mod, file)
			if err != nil {
				return err
			}
			s.setModuleObject(modName, o)
		}
		writeModules(s, w, mods, mod)
		return nil
	case loadAll:
		if len(operands) > 1 {
			return &UsageError{Cmd: "mod"}
		}
		dir := ""
		if len(operands) == 1 {
			if !isDirectory(operands[0]) {
				return &UsageError{Cmd: "mod", Reason: operands[0] + " is not a directory"}
			}
			dir = operands[0]
		}
		var b strings.Builder
		listed := false
		for _, m := range mods {
			loaded := s.moduleObject(m.Name) != nil
			if !loaded {
				file := findModuleObject(s, m.Name, dir, false)
				if file == "" {
					fmt.Fprintf(&b, "mod: cannot find or load object file for %s module\n", m.Name)
					continue
				}
				if !isELFFile(file) {
					fmt.Fprintf(&b, "mod: %s: not an ELF format object file\n", file)
					continue
				}
				o, err := loadModuleObject(s, m, file)
				if err != nil {
					fmt.Fprintf(&b, "mod: %v\n", err)
					continue
				}
				s.setModuleObject(m.Name, o)
			}
			var one strings.Builder
			writeModules(s, &one, mods, m)
			text := one.String()
			if listed {
				text = text[strings.IndexByte(text, '\n')+1:] // the header once
			}
			listed = true
			b.WriteString(text)
		}
		io.WriteString(w, b.String())
		return nil
	}
	return nil
}

// loadModuleObject reads a module's object file relocated where the
// module was loaded, refusing one that is not that module's: another
// module's file, or a build whose GNU build ID differs from the one the
// loaded module carries in its .note.gnu.build-id section. (crash loads
// such a file and then answers with its symbols and lines, which are
// wrong for the dump: a deliberate difference.)
func loadModuleObject(s *Session, m *kernel.Module, file string) (*symbols.ModuleObject, error) {
	o, err := symbols.OpenModuleObject(file, m.Sections)
	if err != nil {
		return nil, fmt.Errorf("cannot load symbols from: %s (%v)", file, err)
	}
	ksyms := make([]symbols.Symbol, len(m.Symbols))
	for i, ms := range m.Symbols {
		ksyms[i] = symbols.Symbol{Name: ms.Name, Addr: ms.Addr, Size: ms.Size}
	}
	if err := o.PlaceLikeCrash(ksyms, m.Base, m.MemoryLayout); err != nil {
		return nil, fmt.Errorf("cannot load symbols from: %s (%v)", file, err)
	}
	if o.Name != "" && o.Name != m.Name {
		return nil, fmt.Errorf("%s: the object file of module %s, not of %s", file, o.Name, m.Name)
	}
	if id := loadedBuildID(s, m); id != "" && o.BuildID != "" && id != o.BuildID {
		return nil, fmt.Errorf("%s: build ID %s does not match the loaded %s module's %s", file, o.BuildID, m.Name, id)
	}
	if id := loadedBuildID(s, m); id == "" && m.SrcVersion != "" && o.SrcVersion != "" && m.SrcVersion != o.SrcVersion {
		return nil, fmt.Errorf("%s: srcversion %s does not match the loaded %s module's %s", file, o.SrcVersion, m.Name, m.SrcVersion)
	}
	return o, nil
}

// loadedBuildID is the build ID note the module was loaded with, as hex.
func loadedBuildID(s *Session, m *kernel.Module) string {
	addr, ok := m.Sections[".note.gnu.build-id"]
	if !ok || addr == 0 {
		return ""
	}
	b := make([]byte, 64)
	if err := s.Mem.ReadVirt(b, addr); err != nil {
		return ""
	}
	id, ok := symbols.FindBuildID(b)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%x", id)
}

// findModuleObject is crash's find_module_objfile (kernel.c
// module_objfile_search, 8.0.6 as Debian builds it: without
// MODULES_IN_CWD). Under dir when one is given (mod -S DIR): the file
// named, else NAME.o, NAME.ko or its separate debuginfo NAME.ko.debug.
// Otherwise, in crash's order: /usr/lib/debug/lib/modules/RELEASE,
// $CRASH_MODULE_PATH, /lib/modules/RELEASE/updates, /lib/modules/RELEASE,
// and the directory tree of the vmlinux (its real path: a symbolic link
// is followed, as crash's realpath does). Each tree is searched for
// NAME.o first, then NAME.ko (then NAME.ko.debug, except under
// /lib/modules); a module named with '_' is looked for with '-' next.
// gocrash's one addition, when crash would find nothing and no file was
// named: NAME.ko or NAME.o in the current directory, shown by its full
// path. Without a vmlinux (crash cannot start then), the dump's directory
// tree takes the vmlinux's place, and the current directory is searched
// last for a file named too.
func findModuleObject(s *Session, name, dir string, named bool) string {
	variants := []string{name}
	if d := strings.ReplaceAll(name, "_", "-"); d != name {
		variants = append(variants, d)
	}
	type root struct {
		dir   string
		debug bool // NAME.ko.debug too
	}
	var roots []root
	if dir != "" {
		roots = []root{{dir, true}}
	} else if info := s.Dump.Info(); info != nil && info.OSRelease != "" {
		rel := info.OSRelease
		roots = append(roots, root{"/usr/lib/debug/lib/modules/" + rel, true})
		if env := os.Getenv("CRASH_MODULE_PATH"); env != "" {
			roots = append(roots, root{env, true})
		}
		roots = append(roots, root{"/lib/modules/" + rel + "/updates", false}, root{"/lib/modules/" + rel, false})
	}
	// Without a vmlinux, the dump's directory tree stands in for the
	// vmlinux's (where a .ko is kept beside the vmcore).
	tree := s.VmlinuxPath
	if tree == "" && s.Kernel != nil {
		tree = s.Kernel.DumpPath
	}
	if dir == "" && tree != "" {
		if real, err := filepath.EvalSymlinks(tree); err == nil {
			if abs, err := filepath.Abs(real); err == nil {
				roots = append(roots, root{filepath.Dir(abs), true})
			}
		}
	}
	for _, v := range variants {
		for _, r := range roots {
			files := []string{v + ".o", v + ".ko"}
			if r.debug {
				files = append(files, v+".ko.debug")
			}
			for _, f := range files {
				if found := searchTree(r.dir, f); found != "" {
					return found
				}
			}
		}
	}
	if (!named || s.VmlinuxPath == "") && dir == "" {
		for _, ext := range []string{".ko", ".o"} {
			if fileExists(name + ext) {
				if abs, err := filepath.Abs(name + ext); err == nil {
					return abs
				}
				return name + ext
			}
		}
	}
	return ""
}

// searchTree is crash's search_directory_tree: the first file of that name
// under root (find's walk; here in lexical order), as find(1) prints it:
// root as given, a slash unless root ends with one, the path under it
// ("mod -S ." finds ./gocrash_oops.ko).
func searchTree(root, file string) string {
	if !isDirectory(root) {
		return ""
	}
	found := ""
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if found != "" {
			return filepath.SkipAll
		}
		if err != nil {
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && d.Name() == file {
			found = path
			return filepath.SkipAll
		}
		return nil
	})
	if found == "" {
		return ""
	}
	rel, err := filepath.Rel(root, found)
	if err != nil {
		return found
	}
	if strings.HasSuffix(root, "/") {
		return root + rel
	}
	return root + "/" + rel
}

// findModule is crash's module argument: a name, or a module address
// written in full (16 hex digits).
func findModule(mods []*kernel.Module, arg string) *kernel.Module {
	if len(arg) == 16 && isHexWord(arg) {
		v, err := parseHex(arg)
		if err != nil {
			return nil
		}
		for _, m := range mods {
			if v >= m.Core[0] && v < m.Core[1] || v >= m.Init[0] && v < m.Init[1] || v == m.Addr {
				return m
			}
		}
		return nil
	}
	for _, m := range mods {
		if m.Name == arg {
			return m
		}
	}
	return nil
}

// writeModules prints crash's module list: the columns are as wide as the
// longest name and size.
func writeModules(s *Session, w io.Writer, mods []*kernel.Module, only *kernel.Module) {
	nameW, sizeW := 0, 0
	memLayout := false
	for _, m := range mods {
		nameW = max(nameW, len(m.Name))
		sizeW = max(sizeW, len(fmt.Sprint(m.Size)))
		memLayout = memLayout || m.MemoryLayout
	}
	base := "BASE"
	if memLayout {
		base = "TEXT_BASE"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-*s  %s  %*s  OBJECT FILE\n", center("MODULE", 16, false), nameW, "NAME", center(base, 16, false), sizeW, "SIZE")
	for _, m := range mods {
		if only != nil && m != only {
			continue
		}
		fmt.Fprintf(&b, "%016x  %-*s  %016x  %*d  ", m.Addr, nameW, m.Name, m.Base, sizeW, m.Size)
		if o := s.moduleObject(m.Name); o != nil {
			// crash: "%s %s", the file and " (temporary)" or nothing.
			b.WriteString(o.Path + " ")
		} else {
			b.WriteString("(not loaded)")
			if len(m.Symbols) > 0 {
				b.WriteString("  [CONFIG_KALLSYMS]")
			}
		}
		b.WriteString("\n")
	}
	io.WriteString(w, b.String())
}

// writeModuleTaints is mod -t: each tainted module's taint letters, from
// the kernel's taint_flags table (the entries whose .module is set).
func writeModuleTaints(s *Session, w io.Writer, mods []*kernel.Module) error {
	nameW, found := 0, 0
	for _, m := range mods {
		if m.Taints != 0 {
			found++
			nameW = max(nameW, len(m.Name))
		}
	}
	if found == 0 {
		fmt.Fprintln(w, "no tainted modules")
		return nil
	}
	flags, err := s.Var("taint_flags")
	if err != nil {
		return err
	}
	type flag struct {
		c      byte
		module bool
	}
	var table []flag
	for i := 0; i < flags.Len() && i < 64; i++ {
		e, err := flags.Index(i)
		if err != nil {
			return err
		}
		var f flag
		c, err := e.Member("c_true")
		if err != nil {
			c, err = e.Member("true")
		}
		if err != nil {
			return err
		}
		v, err := c.Uint()
		if err != nil {
			return err
		}
		f.c = byte(v)
		if mf, err := e.Member("module"); err == nil {
			f.module, _ = mf.Bool()
		}
		table = append(table, f)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s  %s\n", nameW, "NAME", "TAINTS")
	for _, m := range mods {
		if m.Taints == 0 {
			continue
		}
		var letters []byte
		for j, f := range table {
			if f.module && m.Taints&(1<<uint(j)) != 0 {
				letters = append(letters, f.c)
			}
		}
		fmt.Fprintf(&b, "%-*s  %s\n", nameW, m.Name, letters)
	}
	io.WriteString(w, b.String())
	return nil
}
