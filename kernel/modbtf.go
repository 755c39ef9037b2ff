package kernel

import (
	"context"
	"fmt"

	"gocrash/symbols"
)

// Module BTF (CONFIG_DEBUG_INFO_BTF_MODULES, 5.11+): each module's .BTF is
// split BTF on top of the kernel's, its type IDs and string offsets going
// on from the kernel's last (pahole --btf_base vmlinux). The module loader
// points struct module's btf_data at the section of the temporary copy it
// loads from, and kernel/bpf/btf.c's module notifier parses it into a
// struct btf of its own (btf_parse_module: a kvmalloc'ed copy in
// btf->data), linked on the static btf_modules list as a struct
// btf_module. The temporary copy is freed once the module is loaded (and
// btf_data set to NULL since 6.0, kernel/module/main.c do_init_module), so
// the types are read from btf_modules, and from btf_data only where the
// list is missing and the section still carries BTF's magic.

// ModuleBTF is one loaded module's types from its BTF.
type ModuleBTF struct {
	Module string
	Types  *symbols.Types
	// Err says why the module has no types (nil Types): its BTF unread,
	// damaged, or not on the kernel's.
	Err error
}

// maxModuleBTF bounds one module's BTF read from the dump (the largest
// Debian module's, amdgpu's, is ~3 MB).
const maxModuleBTF = 32 << 20

// ModulesBTF reads each loaded module's BTF, in the modules' order, once
// per kernel. A kernel without BTF, or without module BTF, gives none.
func (k *Kernel) ModulesBTF(ctx context.Context) ([]ModuleBTF, error) {
	b := k
	if k.base != nil {
		b = k.base
	}
	b.modBTFOnce.Do(func() { b.modBTF, b.modBTFErr = k.readModulesBTF(ctx) })
	return b.modBTF, b.modBTFErr
}

func (k *Kernel) readModulesBTF(ctx context.Context) ([]ModuleBTF, error) {
	base, err := k.Types()
	if err != nil {
		return nil, err
	}
	if !base.FromBTF() {
		// With the vmlinux, a module's types are its object file's
		// (mod -s), as crash's.
		return nil, nil
	}
	nTypes, nStrs := base.BTFTypeCount()
	if nTypes == 0 {
		return nil, nil
	}
	r, err := k.reader()
	if err != nil {
		return nil, err
	}
	// struct btf (kernel/bpf/btf.c) of each btf_modules entry, by module.
	type found struct{ data, size, startID, startStr uint64 }
	byModule := map[uint64]found{}
	var listErr error
	if head, ok := k.Vmlinux.Lookup("btf_modules"); ok && r.has("btf_module.list") {
		listOff, _ := r.off("btf_module.list")
		n := 0
		listErr = k.WalkList(ctx, head, "btf_modules", func(node uint64) error {
			if n++; n > maxModules {
				return fmt.Errorf("btf_modules: more than %d entries", maxModules)
			}
			bm := node - listOff
			mod, err := r.ptr(bm, "btf_module.module")
			if err != nil {
				return err
			}
			btf, err := r.ptr(bm, "btf_module.btf")
			if err != nil || btf == 0 {
				return err
			}
			var f found
			var errs [4]error
			f.data, errs[0] = r.ptr(btf, "btf.data")
			f.size, errs[1] = r.sized(btf, "btf.data_size")
			f.startID, errs[2] = r.sized(btf, "btf.start_id")
			f.startStr, errs[3] = r.sized(btf, "btf.start_str_off")
			for _, e := range errs {
				if e != nil {
					return e
				}
			}
			byModule[mod] = f
			return nil
		})
	}
	mods, err := k.Modules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ModuleBTF, 0, len(mods))
	for _, m := range mods {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		one := ModuleBTF{Module: m.Name}
		f, ok := byModule[m.Addr]
		if !ok {
			// No btf_modules entry: the section struct module points
			// at, where the kernel still keeps it.
			f.data, _ = r.ptr(m.Addr, "module.btf_data")
			f.size, _ = r.sized(m.Addr, "module.btf_data_size")
			f.startID, f.startStr = uint64(nTypes)+1, uint64(nStrs)
		}
		switch {
		case f.data == 0 || f.size == 0:
			if listErr != nil {
				one.Err = fmt.Errorf("module %s: no BTF found (btf_modules: %w)", m.Name, listErr)
			} else {
				one.Err = fmt.Errorf("module %s has no BTF (built without CONFIG_DEBUG_INFO_BTF_MODULES, or its BTF did not match the kernel's)", m.Name)
			}
		case f.size > maxModuleBTF:
			one.Err = fmt.Errorf("module %s: BTF of %d bytes at %#x is larger than %d", m.Name, f.size, f.data, maxModuleBTF)
		case f.startID != uint64(nTypes)+1 || f.startStr != uint64(nStrs):
			one.Err = fmt.Errorf("module %s: its BTF's types start at ID %d and strings at %d, not after the kernel's %d types and %d bytes of strings", m.Name, f.startID, f.startStr, nTypes, nStrs)
		default:
			data := make([]byte, f.size)
			if err := k.memory().ReadVirt(data, f.data); err != nil {
				one.Err = fmt.Errorf("module %s: BTF at %#x: %w", m.Name, f.data, err)
				break
			}
			one.Types, one.Err = symbols.NewModuleBTFTypes(fmt.Sprintf("module %s's BTF at %#x", m.Name, f.data), data, base)
		}
		out = append(out, one)
	}
	return out, nil
}

// LoadModuleTypes makes each loaded module's BTF types known to the
// kernel's Types after its own (symbols.Types.SetModuleTypes), once: the
// types of modules a session without the vmlinux has. Called by what
// looks up type names a user gives (struct, whatis, p…), not at start-up.
// A module whose BTF cannot be read is left out; its reason is in
// ModulesBTF.
func (k *Kernel) LoadModuleTypes(ctx context.Context) error {
	mods, err := k.ModulesBTF(ctx)
	if err != nil {
		return err
	}
	t, err := k.Types()
	if err != nil {
		return err
	}
	b := k
	if k.base != nil {
		b = k.base
	}
	b.modTypesOnce.Do(func() {
		for _, m := range mods {
			if m.Types != nil {
				t.SetModuleTypes(m.Module, false, m.Types)
			}
		}
	})
	return nil
}
