package commands

import (
	"strings"

	"gocrash/vmcore"
)

// VtopJSON is vtop's answer for one address.
type VtopJSON struct {
	Virtual    Addr           `json:"virtual" desc:"VIRTUAL: the address given"`
	User       bool           `json:"user" desc:"translated through the task's page tables (a user address, or -u)"`
	Accessible bool           `json:"accessible" desc:"false: not a kernel virtual address, or not in the task's VMAs (nothing below)"`
	Mapped     bool           `json:"mapped" desc:"a page maps it ((not mapped) otherwise)"`
	Physical   Addr           `json:"physical" desc:"PHYSICAL, when mapped"`
	PGD        Addr           `json:"pgd" desc:"PGD DIRECTORY (init_top_pgt) for a kernel address, the mm's pgd for a user one"`
	Steps      []VtopStepJSON `json:"steps" desc:"the page-table entries read, top level first"`
	PageSize   uint64         `json:"page_size,omitempty" desc:"the mapping page's size in bytes (4096, 2 MiB, 1 GiB), when mapped through the tables"`
	VMA        Addr           `json:"vma,omitempty" desc:"the vm_area_struct holding a user address"`
	Page       *VtopPageJSON  `json:"page,omitempty" desc:"the struct page of the physical address, as vtop's last line"`
}

// VtopStepJSON is one page-table entry: "LEVEL: ADDRESS => ENTRY" (the
// kernel walk's first one is its PAGE DIRECTORY line).
type VtopStepJSON struct {
	Level string `json:"level" desc:"PGD, P4D, PUD, PMD or PTE"`
	Addr  Addr   `json:"addr" desc:"the entry's address"`
	Entry Addr   `json:"entry" desc:"its value"`
}

// VtopPageJSON is the struct page line.
type VtopPageJSON struct {
	Page    Addr  `json:"page" desc:"PAGE"`
	Mapping Addr  `json:"mapping" desc:"MAPPING"`
	Index   Addr  `json:"index" desc:"INDEX"`
	Count   int64 `json:"count" desc:"CNT: page->_refcount"`
	Flags   Addr  `json:"flags" desc:"FLAGS: page->flags (vtop names the set ones)"`
}

func (r *vtopRun) jsCur() *VtopJSON {
	if r.js == nil || len(*r.js) == 0 {
		return nil
	}
	return &(*r.js)[len(*r.js)-1]
}

func (r *vtopRun) jsStart(va uint64, user bool) {
	if r.js != nil {
		*r.js = append(*r.js, VtopJSON{Virtual: Addr(va), User: user, Steps: []VtopStepJSON{}})
	}
}

func (r *vtopRun) jsTranslation(accessible, mapped bool, phys uint64) {
	if j := r.jsCur(); j != nil {
		j.Accessible, j.Mapped = accessible, mapped
		if mapped {
			j.Physical = Addr(phys)
		}
	}
}

func (r *vtopRun) jsPGD(pgd uint64) {
	if j := r.jsCur(); j != nil {
		j.PGD = Addr(pgd)
	}
}

func (r *vtopRun) jsWalk(w vmcore.PTWalk) {
	j := r.jsCur()
	if j == nil {
		return
	}
	for _, st := range w.Steps {
		j.Steps = append(j.Steps, VtopStepJSON{Level: st.Level, Addr: Addr(st.Addr), Entry: Addr(st.Entry)})
	}
	if w.Mapped {
		j.PageSize = w.PageSize
	}
}

func (r *vtopRun) jsVMA(vma uint64) {
	if j := r.jsCur(); j != nil {
		j.VMA = Addr(vma)
	}
}

func (r *vtopRun) jsPage(page, mapping, index uint64, count int64, flags uint64) {
	if j := r.jsCur(); j != nil {
		j.Page = &VtopPageJSON{Page: Addr(page), Mapping: Addr(mapping), Index: Addr(index), Count: count, Flags: Addr(flags)}
	}
}

// vtopJSON is vtop's JSON: every address form and option of vtop.
func vtopJSON(s *Session, args []string) (any, error) {
	var out strings.Builder
	js := []VtopJSON{}
	if err := vtopInto(s, args, &out, &js); err != nil {
		return nil, err
	}
	return js, nil
}

// ConvJSON is one line of btop or ptob: "INPUT: OUTPUT".
type ConvJSON struct {
	Input  Addr `json:"input" desc:"the number given (btop: an address; ptob: a page frame number)"`
	Output Addr `json:"output" desc:"btop: its page frame number; ptob: the page's first byte address"`
}

func btopJSON(s *Session, args []string) (any, error) {
	var out strings.Builder
	js := []ConvJSON{}
	if err := btopInto(args, &out, &js); err != nil {
		return nil, err
	}
	return js, nil
}

func ptobJSON(s *Session, args []string) (any, error) {
	var out strings.Builder
	js := []ConvJSON{}
	if err := ptobInto(args, &out, &js); err != nil {
		return nil, err
	}
	return js, nil
}
