package kernel

import (
	"fmt"

	"gocrash/symbols"
	"gocrash/vmcore"
)

// A session without debuginfo (issue #17): when no vmlinux is at hand,
// the dump carries what most commands need in the kernel's own memory.
// Symbols come from kallsyms (VMCOREINFO gives its arrays since 6.0),
// types from the kernel's .BTF (CONFIG_DEBUG_INFO_BTF), unwinding from its
// ORC tables — the same unwinder and the same *symbols.Vmlinux and
// *symbols.Types the rest of gocrash uses (symbols/memimage.go).

// NoDebuginfoCost is the banner's line saying what a session without the
// vmlinux lacks.
const NoDebuginfoCost = "no vmlinux: symbols from the dump's kallsyms, types from its BTF, backtraces from its ORC tables; " +
	"no source file names or lines (bt -l, dis -l, sys -c), no types of modules without BTF, " +
	"and only the global variables gocrash knows the declarations of have types (BTF types only per-cpu ones)"

// openWithoutVmlinux is Open's path for a dump alone: the image is read
// from the dump (symbols.OpenMemoryImage). It needs VMCOREINFO.
func (k *Kernel) openWithoutVmlinux() error {
	d := k.Dump
	info := d.Info()
	if info == nil {
		return fmt.Errorf("%s: no VMCOREINFO: without it the kernel's symbols cannot be found in the dump; give the vmlinux", k.DumpPath)
	}
	params, err := vmcore.ParamsFromInfo(info)
	if err != nil {
		return withDumpWarnings(d, fmt.Errorf("%s: %w", k.DumpPath, err))
	}
	k.Mem = vmcore.NewKernelSpace(d, params)
	sym := func(name string) uint64 {
		a, _ := info.Symbol(name)
		return a
	}
	layout := symbols.MemoryImageLayout{
		Kallsyms: symbols.KallsymsAddrs{
			Names:        sym("kallsyms_names"),
			NumSyms:      sym("kallsyms_num_syms"),
			TokenTable:   sym("kallsyms_token_table"),
			TokenIndex:   sym("kallsyms_token_index"),
			Offsets:      sym("kallsyms_offsets"),
			RelativeBase: sym("kallsyms_relative_base"),
		},
		KASLR:   info.KernelOffset,
		BuildID: info.BuildID,
	}
	var findErr error
	if !layout.Kallsyms.Complete() {
		// Before 6.0 VMCOREINFO does not name the arrays: they are found
		// in the image by their structure, from _stext (VMCOREINFO has it
		// since 4.x), else x86_64's default _text moved by KASLR.
		start := sym("_stext")
		if start == 0 {
			start = 0xffffffff81000000 + info.KernelOffset
		}
		// The lowest .data variable VMCOREINFO names bounds .rodata.
		upper := uint64(0)
		for _, name := range []string{"init_uts_ns", "swapper_pg_dir", "init_top_pgt", "node_online_map", "vmap_area_list", "prb"} {
			if a := sym(name); a > start && (upper == 0 || a < upper) {
				upper = a
			}
		}
		a, ferr := symbols.FindKallsymsBelow(k.Mem, start, upper)
		if ferr != nil {
			findErr = fmt.Errorf("VMCOREINFO does not give the kallsyms arrays (kernels before 6.0 do not export them), and %w", ferr)
		}
		layout.Kallsyms = a
	}
	v, err := symbols.OpenMemoryImage(k.DumpPath, k.Mem, layout)
	if err != nil && findErr != nil {
		err = findErr
	}
	if err != nil {
		// The log needs only VMCOREINFO (its printk layout): the session
		// goes on for it, and the rest says why it cannot answer.
		k.Vmlinux = symbols.SymbollessMemoryImage(k.DumpPath, k.Mem, layout, err)
		k.Diagnostics = append(k.Diagnostics, Diagnostic{Severity: Warning, File: k.DumpPath,
			Text: err.Error() + ": no symbols, types or backtraces without the vmlinux; log still reads the kernel's messages by VMCOREINFO"})
		k.Diagnostics = append(k.Diagnostics, k.openDiagnostics(nil)...)
		return nil
	}
	k.Vmlinux = v
	k.Diagnostics = append(k.Diagnostics, Diagnostic{Severity: Warning, File: k.DumpPath, Text: NoDebuginfoCost})
	if !v.HasBTF() {
		k.Diagnostics = append(k.Diagnostics, Diagnostic{Severity: Warning, File: k.DumpPath,
			Text: "the kernel has no BTF (no __start_BTF/__stop_BTF in its kallsyms: built without CONFIG_DEBUG_INFO_BTF): commands that need kernel types will say so; give the vmlinux for them"})
	}
	if !v.HasORC() {
		k.Diagnostics = append(k.Diagnostics, Diagnostic{Severity: Warning, File: k.DumpPath,
			Text: "the kernel has no ORC tables (no __start_orc_unwind_ip/__stop_orc_unwind in its kallsyms: built without CONFIG_UNWINDER_ORC): backtraces follow frame pointers and calls found on the stack, which may miss frames; give the vmlinux for its CFI"})
	}
	k.Diagnostics = append(k.Diagnostics, k.openDiagnostics(nil)...)
	return nil
}

// NoDebuginfo reports whether the session runs without a vmlinux.
func (k *Kernel) NoDebuginfo() bool { return k != nil && k.Vmlinux.FromMemory() }
