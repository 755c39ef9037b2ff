package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gocrash/kernel"
)

// The JSON forms of commands other files own, by command name: register
// puts each into its Command's JSON field (table.go). Package variables
// are initialized before any init function runs, so every register call
// finds this map filled.
var jsonForms = map[string]func(s *Session, args []string) (any, error){
	"sys":     sysJSON,
	"log":     logJSON,
	"mod":     modJSON,
	"kmem":    kmemJSON,
	"ps":      psJSON,
	"bt":      btJSONForm,
	"runq":    runqJSON,
	"files":   filesJSON,
	"vm":      vmJSON,
	"swap":    swapJSON,
	"mount":   mountJSON,
	"dev":     devJSON,
	"net":     netJSON,
	"timer":   timerJSON,
	"irq":     irqJSON,
	"free":    freeJSON,
	"uptime":  uptimeJSON,
	"foreach": foreachJSON,
	"sym":     symJSON,
	"btop":    btopJSON,
	"ptob":    ptobJSON,
	"vtop":    vtopJSON,
	"waitq":   waitqJSON,
	"list":    listJSON,
	"tree":    treeJSON,
	"dis":     disJSON,
	"sig":     sigJSON,
}

// jsonTextCommands run as text even in JSON mode: they steer the session
// rather than answer about the dump ("set output text" must work).
var jsonTextCommands = map[string]bool{
	"set": true, "help": true, "alias": true, "q": true, "exit": true, "repeat": true,
}

// SysJSON is sys's block.
type SysJSON struct {
	Kernel      string     `json:"kernel" desc:"the vmlinux file (KERNEL)"`
	Dumpfile    string     `json:"dumpfile" desc:"the dump file (DUMPFILE)"`
	Tainted     bool       `json:"tainted" desc:"tainted_mask is not 0 ([TAINTED])"`
	TaintedMask uint64     `json:"tainted_mask" desc:"tainted_mask"`
	Livepatch   bool       `json:"livepatch" desc:"TAINT_LIVEPATCH is set ([LIVEPATCH])"`
	Partial     bool       `json:"partial" desc:"a filtered dump ([PARTIAL DUMP])"`
	CPUs        int        `json:"cpus" desc:"possible cpus (CPUS)"`
	OfflineCPUs int        `json:"offline_cpus" desc:"cpus not online ([OFFLINE: N])"`
	Date        string     `json:"date" desc:"the time of the dump, RFC 3339 in the session's zone (DATE)"`
	DateUnix    int64      `json:"date_unix" desc:"the same, seconds since 1970"`
	Uptime      string     `json:"uptime" desc:"as sys shows it (UPTIME)"`
	UptimeSec   float64    `json:"uptime_seconds" desc:"the uptime in seconds, from the kernel's HZ"`
	LoadAverage [3]float64 `json:"load_average" desc:"1, 5 and 15 minute load averages, rounded as sys shows them (LOAD AVERAGE)"`
	Tasks       int        `json:"tasks" desc:"tasks (TASKS)"`
	Nodename    string     `json:"nodename" desc:"utsname nodename (NODENAME)"`
	Release     string     `json:"release" desc:"utsname release (RELEASE)"`
	Version     string     `json:"version" desc:"utsname version (VERSION)"`
	Machine     string     `json:"machine" desc:"utsname machine (MACHINE)"`
	MHz         uint64     `json:"mhz" desc:"the cpu speed, 0 when unknown"`
	MemoryBytes uint64     `json:"memory_bytes" desc:"memory size in bytes"`
	Memory      string     `json:"memory" desc:"as sys shows it (MEMORY)"`
	Panic       string     `json:"panic" desc:"crash's PANIC message, empty when none"`
	Errors      []FieldErr `json:"errors,omitempty" desc:"facts that could not be read"`
}

// FieldErr is a fact that could not be read.
type FieldErr struct {
	Field string `json:"field" desc:"sys's label of the fact"`
	Error string `json:"error" desc:"why"`
}

func sysJSON(s *Session, args []string) (any, error) {
	if len(args) > 0 {
		return nil, jsonOptionsErr("sys", args)
	}
	sys, err := s.Sys(s.Ctx())
	if err != nil {
		return nil, err
	}
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	j := &SysJSON{Kernel: sys.Vmlinux, Dumpfile: sys.Dump, Tainted: sys.TaintedMask != 0, TaintedMask: sys.TaintedMask,
		Livepatch: sys.Livepatch(), Partial: sys.Partial, CPUs: sys.CPUs, OfflineCPUs: sys.OfflineCPUs,
		Tasks: sys.Tasks, Nodename: sys.Utsname.Nodename, Release: sys.Utsname.Release, Version: sys.Utsname.Version,
		Machine: sys.Utsname.Machine, MHz: sys.MHz, MemoryBytes: sys.MemorySize, Panic: sys.Panic}
	if s.NoDebuginfo() {
		j.Kernel = ""
	}
	if sys.Err("DATE") == nil {
		j.Date, j.DateUnix = sys.Date.In(loc).Format(time.RFC3339), sys.Date.Unix()
	}
	if sys.Err("UPTIME") == nil {
		j.Uptime, j.UptimeSec = formatUptime(sys.Uptime), sys.Uptime.Seconds()
	}
	if sys.Err("LOAD AVERAGE") == nil {
		for i, f := range strings.Split(formatLoadAverage(sys.LoadAverage), ", ") {
			if i < 3 {
				j.LoadAverage[i], _ = strconv.ParseFloat(f, 64)
			}
		}
	}
	if sys.Err("MEMORY") == nil {
		j.Memory = formatMemorySize(sys.MemorySize, sys.PageSize)
	}
	for _, e := range sys.Errors {
		j.Errors = append(j.Errors, FieldErr{Field: e.Field, Error: e.Err.Error()})
	}
	return j, nil
}

// LogRecordJSON is one printk record.
type LogRecordJSON struct {
	Seq      uint64 `json:"seq" desc:"the record's sequence number"`
	TimeNsec uint64 `json:"time_ns" desc:"printk's timestamp: nanoseconds since boot"`
	Level    uint8  `json:"level" desc:"syslog level (0 emerg .. 7 debug)"`
	Facility uint8  `json:"facility" desc:"syslog facility (0 kernel)"`
	Caller   string `json:"caller,omitempty" desc:"the caller id as log -c shows it: T<pid> or C<cpu>"`
	Text     string `json:"text" desc:"the message as log prints it (lines joined by \\n, unprintable bytes as '.')"`
}

// LogJSON is the kernel log.
type LogJSON struct {
	Format  string          `json:"format" desc:"the buffer's format: lockless ring buffer, printk_log records or plain log_buf"`
	Records []LogRecordJSON `json:"records" desc:"the records, oldest first (a plain log_buf: one a line, no header fields)"`
	Notes   []string        `json:"notes,omitempty" desc:"records skipped as damaged or missing from the dump"`
}

func logJSON(s *Session, args []string) (any, error) {
	if len(args) > 0 {
		return nil, jsonOptionsErr("log", args)
	}
	l, err := s.Log(s.Ctx())
	if err != nil {
		return nil, err
	}
	j := &LogJSON{Format: l.Format.String(), Records: []LogRecordJSON{}, Notes: l.Notes}
	if l.Format == kernel.LogPlain {
		for _, line := range l.Lines() {
			j.Records = append(j.Records, LogRecordJSON{Text: line})
		}
		return j, nil
	}
	one := &kernel.Log{Format: l.Format, Records: make([]kernel.LogRecord, 1)}
	for i, r := range l.Records {
		if i%256 == 0 {
			if err := s.Ctx().Err(); err != nil {
				return nil, err
			}
		}
		one.Records[0] = r
		rec := LogRecordJSON{Seq: r.Seq, TimeNsec: r.TsNsec, Level: r.Level, Facility: r.Facility,
			Text: strings.Join(one.Lines(), "\n")}
		if r.HasCaller {
			if r.CallerID&0x80000000 != 0 {
				rec.Caller = fmt.Sprintf("C%d", r.CallerID&^0x80000000)
			} else {
				rec.Caller = fmt.Sprintf("T%d", r.CallerID)
			}
		}
		j.Records = append(j.Records, rec)
	}
	return j, nil
}

// ModuleJSON is one loaded module.
type ModuleJSON struct {
	Module     Addr   `json:"module" desc:"the struct module's address (MODULE)"`
	Name       string `json:"name" desc:"NAME"`
	Base       Addr   `json:"base" desc:"BASE (TEXT_BASE on 6.4+)"`
	Size       uint64 `json:"size" desc:"SIZE in bytes"`
	ObjectFile string `json:"object_file,omitempty" desc:"the object file loaded with mod -s, empty when none (not loaded)"`
	Kallsyms   bool   `json:"kallsyms" desc:"the module's kallsyms symbols are in memory ([CONFIG_KALLSYMS])"`
	Taints     string `json:"taints,omitempty" desc:"the letters of module.taints, as mod -t shows them"`
}

func modJSON(s *Session, args []string) (any, error) {
	if len(args) > 0 {
		return nil, jsonOptionsErr("mod", args)
	}
	mods, err := s.modules()
	if err != nil {
		return nil, err
	}
	out := []ModuleJSON{}
	for _, m := range mods {
		j := ModuleJSON{Module: Addr(m.Addr), Name: m.Name, Base: Addr(m.Base), Size: m.Size, Kallsyms: len(m.Symbols) > 0}
		if o := s.moduleObject(m.Name); o != nil {
			j.ObjectFile = o.Path
		}
		fl, _ := kernel.Taints(m.Taints)
		for _, f := range fl {
			j.Taints += string(f.Letter)
		}
		out = append(out, j)
	}
	return out, nil
}

// KmemInfoJSON is kmem -i's table, in pages of PageSize bytes; a block
// crash leaves out is null.
type KmemInfoJSON struct {
	PageSize   uint64      `json:"page_size" desc:"bytes a page"`
	TotalMem   uint64      `json:"total_mem" desc:"TOTAL MEM: _totalram_pages"`
	Free       uint64      `json:"free" desc:"FREE: NR_FREE_PAGES of every zone"`
	Used       uint64      `json:"used" desc:"USED: total_mem - free"`
	Shared     uint64      `json:"shared" desc:"SHARED"`
	Buffers    uint64      `json:"buffers" desc:"BUFFERS: block device page cache"`
	Cached     int64       `json:"cached" desc:"CACHED: file pages less swap cache and buffers"`
	Slab       uint64      `json:"slab" desc:"SLAB"`
	High       *HighJSON   `json:"high,omitempty" desc:"highmem (32-bit kernels)"`
	Huge       *HugeJSON   `json:"huge" desc:"TOTAL HUGE, HUGE FREE (in base pages); null when crash shows no huge block"`
	Swap       *SwapJSON   `json:"swap" desc:"TOTAL SWAP, SWAP USED, SWAP FREE; null without swap"`
	Commit     *CommitJSON `json:"commit" desc:"COMMIT LIMIT, COMMITTED; null when not shown"`
	CachedNote string      `json:"cached_note,omitempty" desc:"crash's note on CACHED"`
}

// HighJSON is kmem -i's highmem block.
type HighJSON struct {
	Total uint64 `json:"total" desc:"TOTAL HIGH"`
	Free  uint64 `json:"free" desc:"FREE HIGH"`
}

// HugeJSON is kmem -i's huge page block.
type HugeJSON struct {
	Total uint64 `json:"total" desc:"TOTAL HUGE"`
	Free  uint64 `json:"free" desc:"HUGE FREE"`
}

// SwapJSON is kmem -i's swap block.
type SwapJSON struct {
	Total uint64 `json:"total" desc:"TOTAL SWAP"`
	Used  uint64 `json:"used" desc:"SWAP USED"`
	Free  uint64 `json:"free" desc:"SWAP FREE"`
}

// CommitJSON is kmem -i's commit block.
type CommitJSON struct {
	Limit     uint64 `json:"limit" desc:"COMMIT LIMIT"`
	Committed int64  `json:"committed" desc:"COMMITTED"`
}

// kmemJSON is kmem -i's and kmem -s's JSON (their result types differ:
// docs/json.md names both).
func kmemJSON(s *Session, args []string) (any, error) {
	if len(args) == 1 && args[0] == "-s" {
		return kmemSlabJSON(s)
	}
	if len(args) == 1 && args[0] == "-V" {
		return kmemVMStatJSON(s)
	}
	if len(args) == 1 && args[0] == "-f" {
		return kmemFreeJSON(s)
	}
	if len(args) == 1 && args[0] == "-z" {
		return kmemZonesJSON(s)
	}
	if len(args) != 1 || args[0] != "-i" {
		return nil, jsonOptionsErr("kmem", args)
	}
	m, err := s.MemInfo(s.Ctx())
	if err != nil {
		return nil, err
	}
	j := &KmemInfoJSON{PageSize: m.PageSize, TotalMem: m.TotalRAM, Free: m.Free, Used: m.TotalRAM - m.Free,
		Shared: m.Shared, Buffers: m.Buffers, Cached: m.Cached, Slab: m.Slab}
	if m.CachedNegative < 0 {
		j.CachedNote = fmt.Sprintf("page_cache_size went negative (%d), setting to 0", m.CachedNegative)
	}
	if m.HasHigh {
		j.High = &HighJSON{Total: m.TotalHigh, Free: m.FreeHigh}
	}
	if m.HasHuge {
		j.Huge = &HugeJSON{Total: m.HugeTotal, Free: m.HugeFree}
	}
	if m.HasSwap {
		j.Swap = &SwapJSON{Total: m.SwapTotal, Used: m.SwapUsed, Free: m.SwapTotal - m.SwapUsed}
	}
	if m.HasCommit && m.CommitShown {
		j.Commit = &CommitJSON{Limit: m.CommitLimit, Committed: m.Committed}
	}
	return j, nil
}

// PsRow is one line of ps.
type PsRow struct {
	Active       bool   `json:"active" desc:"running on a cpu at the crash ('>')"`
	PID          int64  `json:"pid" desc:"PID"`
	PPID         int64  `json:"ppid" desc:"PPID"`
	CPU          int    `json:"cpu" desc:"CPU"`
	Task         Addr   `json:"task" desc:"TASK: the task_struct's address"`
	State        string `json:"state" desc:"ST: RU, IN, UN, ZO, ID, ..."`
	PctMem       string `json:"pct_mem" desc:"%MEM as ps shows it"`
	VSZKB        uint64 `json:"vsz_kb" desc:"VSZ in KB"`
	RSSKB        uint64 `json:"rss_kb" desc:"RSS in KB"`
	Command      string `json:"command" desc:"COMM (without the brackets of a kernel thread)"`
	KernelThread bool   `json:"kernel_thread" desc:"a kernel thread (ps shows [COMM])"`
}

func psJSON(s *Session, args []string) (any, error) {
	var out strings.Builder
	rows := []PsRow{}
	if err := psInto(s, args, &out, &rows); err != nil {
		return nil, err
	}
	// ps prints some failures ("ps: invalid task or pid value: N") and
	// goes on: in JSON they are the error.
	lines := 0
	for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		if msg, ok := strings.CutPrefix(l, "ps: "); ok {
			return nil, errors.New(msg)
		}
		if l != "" {
			lines++
		}
	}
	// Only the default format fills rows: any other must not give an
	// empty or partial answer.
	if lines > 0 && lines != len(rows)+1 {
		return nil, jsonOptionsErr("ps", args)
	}
	return rows, nil
}
