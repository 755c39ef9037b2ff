// Package kernel is gocrash's model of a crashed kernel: a dump opened
// with its vmlinux, and small walkers over the kernel's structures that
// return plain Go values. Commands print those values as crash does; a Go
// program can use them directly:
//
//	k, err := kernel.Open("vmlinux", "vmcore", kernel.Options{})
//	if err != nil { ... }
//	defer k.Close()
//	p, err := k.Panic(ctx)           // panic cpu, task and message
//	bt, err := k.Backtrace(ctx, p.Task, kernel.BacktraceOptions{})
//
// The walkers, by area (each one a method of *Kernel; anything that loops
// takes a context.Context first and stops when it is done):
//
//   - summary: Sys (crash's sys block), Panic, Utsname, DumpTime, Uptime,
//     HZ, LoadAverage, TaintedMask, MemorySize, CPUMHz, BootTime, Config, DMI;
//   - log: Log (printk records of the lockless ring, printk_log or a plain
//     log_buf), AuditLog, PrintkSafe;
//   - tasks: Tasks (the cached, immutable task table), ReadTask, ForEachTask,
//     ActiveTask, PanicTask, Rlimits, TaskLastRun, Signals, TaskFiles, MM,
//     VMAInfos;
//   - stacks: Backtrace, NewBacktracer;
//   - scheduler: Runqueues (RT and CFS queues), RunqueueGroups (by task
//     group), TasksOnRunqueue;
//   - memory: MemInfo (kmem -i), MemMap (the one mem_map model: sections
//     and struct pages), Zones and AllZones, VMStat, FreeLists, HStates,
//     SwapAreas, VmapAreas, KVToP, SearchVirt and SearchPhys, NewSlab;
//   - modules: Modules, ModuleSymbolTables;
//   - devices and more: IRQTable, Resources, CharDevices, BlockDevices,
//     Disks, PCIRootBuses, NetDevices, Mounts, TimerBases, WaitQueue;
//   - shared helpers: Var, Object, PerCPU, CPUMask, SymbolAddr,
//     LayoutOffset; the cycle-safe WalkList, FollowList (crash's list),
//     WalkRBTree, WalkXArray, WalkMaple.
//
// The values are plain exported fields, ready for encoding/json. Nothing in
// this package writes text: problems found on the way are returned as
// errors (a walk over damaged memory returns what it read with the error)
// or as Diagnostic values.
package kernel

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"gocrash/symbols"
	"gocrash/vmcore"
)

// Options tune Open.
type Options struct {
	Force        bool // go on when the vmlinux does not match the dump
	ZeroExcluded bool // read pages filtered out of the dump as zeroes (crash's zero_excluded)
	// OpenVmlinux opens the vmlinux instead of symbols.Open: gocrash
	// triage hands out shares of one open vmlinux (symbols.Vmlinux.Share)
	// to the sessions of the dumps it wrote.
	OpenVmlinux func(path string) (*symbols.Vmlinux, error)
}

// ErrMismatch is wrapped by Open's error when the vmlinux is not the
// kernel that wrote the dump.
var ErrMismatch = errors.New("vmlinux and vmcore do not match")

// A Kernel is one dump opened with the vmlinux of the kernel that wrote
// it. Its methods are safe for concurrent use.
type Kernel struct {
	Dump        *vmcore.Dump        // physical memory, CPU notes, VMCOREINFO
	Mem         *vmcore.KernelSpace // kernel virtual memory
	Vmlinux     *symbols.Vmlinux    // the ELF symbols, relocated by the KASLR offset
	VmlinuxPath string
	DumpPath    string

	// Diagnostics are the problems Open found that did not stop it (a
	// damaged dump, a forced mismatch, a vmlinux without DWARF), in the
	// order found.
	Diagnostics []Diagnostic

	typesOnce sync.Once
	types     *symbols.Types
	typesErr  error

	pageOffsetOnce sync.Once
	pageOff        uint64

	statesOnce sync.Once
	states     *TaskStates
	taskMemMu  sync.Mutex
	taskMemR   *taskMemReader

	memMapOnce sync.Once
	memMap     *MemMap
	memMapErr  error

	tasksMu sync.Mutex
	tasks   *TaskTable // built once by Tasks

	layoutOnce sync.Once
	layout     *layoutCache // the walkers' member offsets (reader.go)

	modBTFOnce   sync.Once // ModulesBTF (modbtf.go)
	modBTF       []ModuleBTF
	modBTFErr    error
	modTypesOnce sync.Once

	btMu sync.Mutex
	bt   *Backtracer // built once by NewBacktracer

	// vmaPaths are the file paths VMAInfos rebuilt, by dentry and
	// vfsmount: every task of a foreach vm maps the same few files, and
	// walking their dentries up to the root for each VMA was a fifth of it.
	vmaPaths sync.Map // [2]uint64 -> string

	// A view (WithMemory) reads through view and shares base's types.
	view symbols.Memory
	base *Kernel
}

// WithMemory is a view of the same kernel whose walkers read through m
// instead of the dump: a patched or recording memory, for tests and
// fuzzing of the walkers over hostile memory. Closing it closes nothing.
func (k *Kernel) WithMemory(m symbols.Memory) *Kernel {
	b := k
	if k.base != nil {
		b = k.base
	}
	return &Kernel{Dump: k.Dump, Mem: k.Mem, Vmlinux: k.Vmlinux, VmlinuxPath: k.VmlinuxPath,
		DumpPath: k.DumpPath, Diagnostics: k.Diagnostics, view: m, base: b}
}

// memory is what the walkers read: the dump's kernel memory, or a view's.
func (k *Kernel) memory() symbols.Memory {
	if k.view != nil {
		return k.view
	}
	return k.Mem
}

// Open opens a dump and its vmlinux. The two paths may come in either
// order: the one vmcore recognises as a dump is the dump; vmlinuxPath ""
// opens the dump alone, its symbols, types and unwind tables read from the
// kernel's memory (kallsyms, .BTF, ORC). A vmlinux that
// is not the dump's kernel is refused (crash: "vmlinux and vmcore do not
// match!") unless opt.Force is set.
func Open(vmlinuxPath, dumpPath string, opt Options) (*Kernel, error) {
	d, err := vmcore.Open(dumpPath)
	if err != nil {
		d2, err2 := vmcore.Open(vmlinuxPath)
		if err2 != nil {
			return nil, err
		}
		d, vmlinuxPath, dumpPath = d2, dumpPath, vmlinuxPath
	}
	k := &Kernel{Dump: d, VmlinuxPath: vmlinuxPath, DumpPath: dumpPath}
	ok := false
	defer func() {
		if !ok {
			k.Close()
		}
	}()
	d.SetZeroExcluded(opt.ZeroExcluded)
	if vmlinuxPath == "" {
		// No vmlinux: the image from the dump (nodebuginfo.go).
		if err := k.openWithoutVmlinux(); err != nil {
			return nil, err
		}
		ok = true
		return k, nil
	}
	openVmlinux := symbols.Open
	if opt.OpenVmlinux != nil {
		openVmlinux = opt.OpenVmlinux
	}
	if k.Vmlinux, err = openVmlinux(vmlinuxPath); err != nil {
		return nil, vmlinuxOpenError(vmlinuxPath, dumpPath, err)
	}
	var params vmcore.X86Params
	if info := d.Info(); info != nil {
		k.Vmlinux.SetKASLR(info.KernelOffset)
		params, err = vmcore.ParamsFromInfo(info)
	} else {
		// QEMU dump-guest-memory without VMCOREINFO.
		params, err = k.paramsFromIDT()
	}
	if err != nil {
		return nil, withDumpWarnings(d, fmt.Errorf("%s: %w", dumpPath, err))
	}
	k.Mem = vmcore.NewKernelSpace(d, params)
	diff, bannerErr := k.checkMatch()
	if diff != "" {
		msg := fmt.Sprintf("%s and %s do not match!\n%s", vmlinuxPath, dumpPath, diff)
		if !opt.Force {
			return nil, &mismatchError{msg: msg}
		}
		k.Diagnostics = append(k.Diagnostics, Diagnostic{Severity: Warning, Text: msg + "(going on: --force)"})
	}
	k.Diagnostics = append(k.Diagnostics, k.openDiagnostics(bannerErr)...)
	ok = true
	return k, nil
}

// paramsFromIDT finds the translation parameters and the KASLR slide of a
// dump that has no VMCOREINFO (vmcore.ParamsFromIDT), and relocates the
// vmlinux's symbols by that slide.
func (k *Kernel) paramsFromIDT() (vmcore.X86Params, error) {
	v := k.Vmlinux
	if len(k.Dump.QEMUCPUs()) == 0 {
		return vmcore.ParamsFromIDT(k.Dump, vmcore.IDTSymbols{})
	}
	need := func(names ...string) (uint64, error) {
		for _, n := range names {
			if a, ok := v.LookupSymbol(n); ok {
				return a.Addr - v.KASLR(), nil
			}
		}
		return 0, fmt.Errorf("vmlinux has no %s symbol: cannot find the KASLR offset of a dump without VMCOREINFO", strings.Join(names, " or "))
	}
	var sym vmcore.IDTSymbols
	var err error
	if sym.DivideError, err = need("asm_exc_divide_error", "divide_error"); err != nil {
		return vmcore.X86Params{}, err
	}
	if sym.IDTTable, err = need("idt_table"); err != nil {
		return vmcore.X86Params{}, err
	}
	if sym.LinuxBanner, err = need("linux_banner"); err != nil {
		return vmcore.X86Params{}, err
	}
	if sym.InitTopPgt, err = need("init_top_pgt", "init_level4_pgt"); err != nil {
		return vmcore.X86Params{}, err
	}
	if sym.End, err = need("_end"); err != nil {
		return vmcore.X86Params{}, err
	}
	_, pti := v.Lookup("pti_init")
	_, kaiser := v.Lookup("kaiser_init")
	sym.PTI = pti || kaiser
	p, err := vmcore.ParamsFromIDT(k.Dump, sym)
	if err != nil {
		return p, err
	}
	v.SetKASLR(p.KernelOffset)
	return p, nil
}

type mismatchError struct{ msg string }

func (e *mismatchError) Error() string { return strings.TrimRight(e.msg, "\n") }
func (e *mismatchError) Unwrap() error { return ErrMismatch }

// Types returns the vmlinux's DWARF types, indexed on first use.
func (k *Kernel) Types() (*symbols.Types, error) {
	if k.base != nil {
		return k.base.Types()
	}
	k.typesOnce.Do(func() {
		k.types, k.typesErr = k.Vmlinux.Types()
	})
	return k.types, k.typesErr
}

// Layouts is the Types the walkers read offsets, sizes and values
// through (symbols.Types.Layouts): the kernel's .BTF when the vmlinux has
// one, asking its DWARF only for what BTF lacks. What prints C types
// (struct, p, whatis, ptype, dis) asks Types.
func (k *Kernel) Layouts() (*symbols.Types, error) {
	t, err := k.Types()
	if err != nil {
		return nil, err
	}
	return t.Layouts(), nil
}

// Close releases the dump and the vmlinux.
func (k *Kernel) Close() error {
	if k.base != nil {
		return nil
	}
	var errs []error
	if k.Vmlinux != nil {
		errs = append(errs, k.Vmlinux.Close())
		k.Vmlinux = nil
	}
	if k.Dump != nil {
		errs = append(errs, k.Dump.Close())
		k.Dump = nil
	}
	return errors.Join(errs...)
}

// Var is the typed global variable name.
func (k *Kernel) Var(name string) (symbols.Object, error) {
	t, err := k.Layouts()
	if err != nil {
		return symbols.Object{}, err
	}
	return t.Var(k.memory(), k.Vmlinux, name)
}

// Object is the object of type typeName at addr.
func (k *Kernel) Object(addr uint64, typeName string) (symbols.Object, error) {
	t, err := k.Layouts()
	if err != nil {
		return symbols.Object{}, err
	}
	return t.Object(k.memory(), addr, typeName)
}

// defaultPageOffset is x86_64's __PAGE_OFFSET_BASE_L4 without KASLR.
const defaultPageOffset = 0xffff888000000000

// PageOffset is the start of the direct map (page_offset_base, randomised
// by KASLR); without the variable, x86_64's 4-level default.
func (k *Kernel) PageOffset() uint64 {
	if k == nil || k.Mem == nil {
		return defaultPageOffset
	}
	k.pageOffsetOnce.Do(func() {
		k.pageOff = defaultPageOffset
		if o, err := k.Var("page_offset_base"); err == nil {
			if v, err := o.Uint(); err == nil && v != 0 {
				k.pageOff = v
			}
		}
	})
	return k.pageOff
}

// DumpFormat is the dump's format as crash's messages name it: a
// flattened dump reads like the format inside it.
func (k *Kernel) DumpFormat() vmcore.Format {
	if k == nil || k.Dump == nil {
		return vmcore.FormatUnknown
	}
	if f := k.Dump.Format(); f != vmcore.FormatFlattened {
		return f
	}
	return k.Dump.InnerFormat()
}

// ReadAsCrash reads through read, and on an ELF dump gives the pages
// makedumpfile excluded (the zero-filled tail of a PT_LOAD, p_memsz
// beyond p_filesz) as zeroes, as crash reads them (netdump's zero_fill);
// on other formats an excluded page stays an error, as it is in crash.
// The vmcore layer itself always reports exclusion.
func (k *Kernel) ReadAsCrash(read func(p []byte, va uint64) error, p []byte, va uint64) error {
	err := read(p, va)
	if err == nil || !errors.Is(err, vmcore.ErrExcluded) || k.DumpFormat() != vmcore.FormatELF {
		return err
	}
	for len(p) > 0 {
		n := min(len(p), int(4096-va%4096))
		if err := read(p[:n], va); err != nil {
			if !errors.Is(err, vmcore.ErrExcluded) {
				return err
			}
			clear(p[:n])
		}
		p, va = p[n:], va+uint64(n)
	}
	return nil
}
