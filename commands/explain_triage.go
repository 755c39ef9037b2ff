package commands

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"gocrash/symbols"
)

// Triage is explain's cause and signature for many dumps (gocrash triage):
// what one line per dump and the grouping by signature need, and nothing
// slower (no kmem -i walk of mem_map).

// A TriageResult is one dump's line.
type TriageResult struct {
	Dump        string  `json:"dump" desc:"the dump file"`
	Vmlinux     string  `json:"vmlinux,omitempty" desc:"the vmlinux it was read with"`
	DumpAlone   string  `json:"dump_alone,omitempty" desc:"why no vmlinux was used (none found): the dump was read alone, its symbols from kallsyms, types from BTF"`
	Release     string  `json:"release,omitempty" desc:"utsname release"`
	Kind        string  `json:"kind,omitempty" desc:"explain's cause kind"`
	Signature   string  `json:"signature,omitempty" desc:"explain's crash signature"`
	SignatureOf string  `json:"signature_of,omitempty" desc:"what the signature hashes"`
	Summary     string  `json:"summary,omitempty" desc:"explain's one-sentence cause"`
	Function    string  `json:"function,omitempty" desc:"the function that faulted, locked up or panicked"`
	Module      string  `json:"module,omitempty" desc:"the module it happened in"`
	PID         int64   `json:"pid" desc:"the panic task's PID (-1 when unknown)"`
	Command     string  `json:"command,omitempty" desc:"the panic task's command"`
	CPU         int     `json:"cpu" desc:"the panic task's cpu (-1 when unknown)"`
	Error       string  `json:"error,omitempty" desc:"why the dump could not be opened or read"`
	Seconds     float64 `json:"seconds" desc:"the time this dump took"`
}

// ExplainOptions tune ExplainWith.
type ExplainOptions struct {
	// Quick leaves out the state at the crash that costs a walk of
	// memory (kmem -i's counters): triage's need.
	Quick bool
}

// A VmlinuxPool opens each vmlinux once for a run over many dumps and
// gives each dump's session a share of it (symbols.Vmlinux.Share): the
// symbol table and the DWARF types are read once per kernel build, not
// once per dump. Safe for concurrent use; the zero value is ready.
type VmlinuxPool struct {
	mu   sync.Mutex
	open map[string]*pooledVmlinux
}

type pooledVmlinux struct {
	once sync.Once
	v    *symbols.Vmlinux
	err  error
}

// Open returns a share of the vmlinux at path, opening it on first use.
func (p *VmlinuxPool) Open(path string) (*symbols.Vmlinux, error) {
	p.mu.Lock()
	if p.open == nil {
		p.open = map[string]*pooledVmlinux{}
	}
	e := p.open[path]
	if e == nil {
		e = &pooledVmlinux{}
		p.open[path] = e
	}
	p.mu.Unlock()
	e.once.Do(func() { e.v, e.err = symbols.Open(path) })
	if e.err != nil {
		return nil, e.err
	}
	return e.v.Share()
}

// Close closes every vmlinux the pool opened; the sessions given shares
// must be closed first.
func (p *VmlinuxPool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.open {
		e.once.Do(func() {})
		if e.v != nil {
			e.v.Close()
		}
	}
	p.open = nil
}

// TriageDump opens one dump with its vmlinux and explains it quickly. It
// never fails: a dump that cannot be opened or read is a result with
// Error set. With a pool, the vmlinux is the pool's shared one.
func TriageDump(ctx context.Context, pool *VmlinuxPool, vmlinux, dump string) (r TriageResult) {
	start := time.Now()
	r = TriageResult{Dump: dump, Vmlinux: vmlinux, PID: -1, CPU: -1}
	defer func() {
		if p := recover(); p != nil {
			r.Error = fmt.Sprintf("internal error: %v", p)
		}
		r.Seconds = time.Since(start).Seconds()
	}()
	var opt Options
	if pool != nil {
		opt.OpenVmlinux = pool.Open
	}
	s, err := Open(vmlinux, dump, opt)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer s.Close()
	ex, err := s.ExplainWith(ctx, ExplainOptions{Quick: true})
	if err != nil {
		r.Error = err.Error()
		return r
	}
	if ex.Cause.Kind == CauseUnknown && len(ex.Problems) > 0 {
		// Opened, but what tells the cause could not be read (a dump
		// cut short): the reason, not an "unknown" crash.
		p := ex.Problems
		if len(p) > 2 {
			p = p[:2]
		}
		r.Error = "cannot read the dump: " + strings.Join(p, "; ")
		return r
	}
	r.Release, r.Kind, r.Summary = ex.Release, ex.Cause.Kind, ex.Cause.Summary
	r.Signature, r.SignatureOf = ex.Signature, ex.SignatureOf
	r.Function, r.Module = ex.Cause.Function, ex.Cause.Module
	if ex.Task != nil {
		r.PID, r.Command, r.CPU = ex.Task.PID, ex.Task.Command, ex.Task.CPU
	}
	return r
}

// TriageSummary groups the dumps of a triage run by signature.
type TriageSummary struct {
	Dumps         int            `json:"dumps" desc:"dumps looked at"`
	Failed        int            `json:"failed" desc:"dumps that could not be opened or read"`
	Seconds       float64        `json:"seconds" desc:"the run's wall-clock time"`
	DumpsPerSec   float64        `json:"dumps_per_second" desc:"dumps / seconds"`
	Groups        []TriageGroup  `json:"groups" desc:"one per signature, the most frequent first"`
	FailedReasons map[string]int `json:"failed_reasons,omitempty" desc:"each failure's reason and how many dumps had it"`
}

// A TriageGroup is the dumps of one signature.
type TriageGroup struct {
	Signature   string   `json:"signature" desc:"the crash signature"`
	SignatureOf string   `json:"signature_of" desc:"what it hashes"`
	Kind        string   `json:"kind" desc:"the cause kind"`
	Count       int      `json:"count" desc:"how many dumps"`
	Releases    []string `json:"releases" desc:"the kernel releases they ran"`
	Dumps       []string `json:"dumps" desc:"the dump files"`
}

// SummarizeTriage groups results by signature, the largest group first.
func SummarizeTriage(results []TriageResult, elapsed time.Duration) TriageSummary {
	s := TriageSummary{Dumps: len(results), Seconds: elapsed.Seconds(), Groups: []TriageGroup{}}
	if elapsed > 0 {
		s.DumpsPerSec = float64(len(results)) / elapsed.Seconds()
	}
	idx := map[string]int{}
	for _, r := range results {
		if r.Error != "" {
			s.Failed++
			if s.FailedReasons == nil {
				s.FailedReasons = map[string]int{}
			}
			s.FailedReasons[r.Error]++
			continue
		}
		i, ok := idx[r.Signature]
		if !ok {
			i = len(s.Groups)
			idx[r.Signature] = i
			s.Groups = append(s.Groups, TriageGroup{Signature: r.Signature, SignatureOf: r.SignatureOf, Kind: r.Kind})
		}
		g := &s.Groups[i]
		g.Count++
		g.Dumps = append(g.Dumps, r.Dump)
		seen := false
		for _, rel := range g.Releases {
			seen = seen || rel == r.Release
		}
		if !seen {
			g.Releases = append(g.Releases, r.Release)
		}
	}
	sort.SliceStable(s.Groups, func(i, j int) bool { return s.Groups[i].Count > s.Groups[j].Count })
	return s
}
