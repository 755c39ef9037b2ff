package commands

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gocrash/internal/testbed"
	"gocrash/kernel"
)

// TestJSONSchema: docs/json.md is the schema generated from the result
// types (go test ./commands -run TestJSONSchema -update rewrites it), and
// every command with a result type has a JSON form and the other way
// round.
func TestJSONSchema(t *testing.T) {
	want := JSONReference()
	if *update {
		if err := os.WriteFile("../docs/json.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile("../docs/json.md")
	if err != nil {
		t.Fatalf("%v (go test ./commands -run TestJSONSchema -update writes it)", err)
	}
	if string(have) != want {
		t.Errorf("docs/json.md is stale: run go test ./commands -run TestJSONSchema -update")
	}
	for k := range JSONResultTypes {
		if JSONArguments[k] == "" {
			t.Errorf("%s: no JSONArguments entry (what its JSON form takes, for docs/json.md)", k)
		}
	}
	for _, c := range Table() {
		typed := false
		for k := range JSONResultTypes {
			first, _, _ := strings.Cut(k, " ")
			typed = typed || first == c.Name
		}
		if (c.JSON != nil) != typed {
			t.Errorf("%s: JSON form %v, result type in JSONResultTypes %v", c.Name, c.JSON != nil, typed)
		}
		if _, none := JSONNone[c.Name]; none == (c.JSON != nil) {
			t.Errorf("%s: JSON form %v, in JSONNone %v (docs/json.md says why a command has none)", c.Name, c.JSON != nil, none)
		}
	}
}

// jsonRun runs line in JSON mode, checks the document against the
// schema and decodes its result into out.
func jsonRun(t *testing.T, s *Session, line string, out any) {
	t.Helper()
	if err := s.SetJSONOutput(true); err != nil {
		t.Fatal(err)
	}
	defer s.SetJSONOutput(false)
	var b bytes.Buffer
	err := Run(s, line, &b)
	if bytes.Count(b.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("%s: not one JSON line:\n%s", line, b.String())
	}
	var doc struct {
		Command string          `json:"command"`
		Result  json.RawMessage `json:"result"`
		Error   string          `json:"error"`
	}
	if jerr := json.Unmarshal(b.Bytes(), &doc); jerr != nil {
		t.Fatalf("%s: %v:\n%s", line, jerr, b.String())
	}
	if err != nil || doc.Error != "" {
		t.Fatalf("%s: %v / %q", line, err, doc.Error)
	}
	var generic any
	if err := json.Unmarshal(doc.Result, &generic); err != nil {
		t.Fatal(err)
	}
	typ, ok := JSONResultTypes[line]
	if !ok {
		name, _, _ := strings.Cut(line, " ")
		typ = JSONResultTypes[name]
		if name == "foreach" {
			for _, w := range strings.Fields(line) {
				if _, ok := foreachJSONForms[w]; ok {
					typ = JSONResultTypes["foreach "+w]
					break
				}
			}
		}
	}
	if err := SchemaOf(typ).Validate(generic); err != nil {
		t.Fatalf("%s: the document does not fit the schema: %v", line, err)
	}
	dec := json.NewDecoder(bytes.NewReader(doc.Result))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
}

func hexOf(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

var (
	rePsLine   = regexp.MustCompile(`^(>| ) +(\d+) +(\d+) +(\d+) +([0-9a-f]+) +(\S+) +(\S+) +(\d+) +(\d+) +(.*)$`)
	reBtHeader = regexp.MustCompile(`^PID: (\d+) +TASK: ([0-9a-f]+) +CPU: (\d+) +COMMAND: "(.*)"$`)
	reBtFrame  = regexp.MustCompile(`^ ?#(\d+) \[ *([0-9a-f]+)\] (\S+) at ([0-9a-f]+)(?: \[(\S+)\])?$`)
	reBtRegs   = regexp.MustCompile(`([A-Z0-9_]+): ([0-9a-f]+)`)
	reLogTime  = regexp.MustCompile(`^\[ *(\d+)\.(\d{6})\] `)
)

// TestJSONMatchesText: on every committed dump, each JSON form carries
// the values its text output prints, field by field.
func TestJSONMatchesText(t *testing.T) {
	for _, d := range testbed.All(t) {
		d := d
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			checkJSONMatchesText(t, s)
		})
	}
}

// TestJSONMatchesTextDistro: the same on the Debian kernels' dumps the
// test bed leaves in its work folder (not committed: their -dbg vmlinux
// files are ~600 MB), where they exist; $GOCRASH_DISTRO_DUMPS names
// another folder of NAME/vmlinux and NAME/vmcore.zlib.
func TestJSONMatchesTextDistro(t *testing.T) {
	root := os.Getenv("GOCRASH_DISTRO_DUMPS")
	if root == "" {
		root = "/var/cache/gocrash-mkdump/distro"
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "vmcore.zlib"))
	if len(dirs) == 0 {
		t.Skipf("no Debian kernel dumps in %s (testdata/mkdump/mkdump.sh debian-KVER makes them)", root)
	}
	for _, vmcore := range dirs {
		dir := filepath.Dir(vmcore)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			s, err := Open(filepath.Join(dir, "vmlinux"), vmcore, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			checkJSONMatchesText(t, s)
		})
	}
}

// checkJSONMatchesText compares each JSON form with its text on one dump.
func checkJSONMatchesText(t *testing.T, s *Session) {
	t.Run("sys", func(t *testing.T) { checkSysJSON(t, s) })
	t.Run("ps", func(t *testing.T) { checkPsJSON(t, s, "ps") })
	t.Run("sig", func(t *testing.T) { checkSigJSON(t, s, "sig") })
	t.Run("sig 1", func(t *testing.T) { checkSigJSON(t, s, "sig 1") })
	t.Run("foreach sig", func(t *testing.T) { checkSigJSON(t, s, "foreach sig") })
	t.Run("kmem -V", func(t *testing.T) { checkKmemVJSON(t, s) })
	t.Run("kmem -f", func(t *testing.T) { checkKmemFreeJSON(t, s) })
	t.Run("kmem -z", func(t *testing.T) { checkKmemZJSON(t, s) })
	t.Run("list tree", func(t *testing.T) { checkListTreeJSON(t, s) })
	t.Run("waitq", func(t *testing.T) { checkWaitqJSON(t, s) })
	t.Run("vtop", func(t *testing.T) { checkVtopJSONs(t, s) })
	t.Run("btop ptob", func(t *testing.T) {
		checkConvJSON(t, s, "btop 1000 7fffff 10a5000")
		checkConvJSON(t, s, "ptob 1 0x10a5 512")
	})
	t.Run("dis", func(t *testing.T) { checkDisJSONs(t, s) })
	t.Run("sym", func(t *testing.T) { checkSymJSONs(t, s) })
	t.Run("foreach ps", func(t *testing.T) { checkPsJSON(t, s, "foreach ps") })
	t.Run("foreach kernel ps", func(t *testing.T) { checkPsJSON(t, s, "foreach kernel ps") })
	t.Run("foreach bt", func(t *testing.T) { checkBtJSON(t, s, "foreach bt") })
	t.Run("foreach RU bt -s", func(t *testing.T) { checkBtJSON(t, s, "foreach RU bt -s") })
	t.Run("foreach files", func(t *testing.T) { checkFilesJSON(t, s, "foreach files") })
	t.Run("foreach 1 vm", func(t *testing.T) { checkVmJSON(t, s, "foreach 1 vm") })
	t.Run("foreach user vm", func(t *testing.T) { checkVmJSON(t, s, "foreach user vm") })
	t.Run("bt", func(t *testing.T) { checkBtJSON(t, s, "bt -a") })
	t.Run("mod", func(t *testing.T) { checkModJSON(t, s) })
	t.Run("kmem", func(t *testing.T) { checkKmemJSON(t, s) })
	t.Run("log", func(t *testing.T) { checkLogJSON(t, s) })
	t.Run("runq", func(t *testing.T) { checkRunqJSON(t, s) })
	t.Run("kmem -s", func(t *testing.T) { checkKmemSlabJSON(t, s) })
	t.Run("files", func(t *testing.T) { checkFilesJSON(t, s, "files") })
	t.Run("files 1", func(t *testing.T) { checkFilesJSON(t, s, "files 1") })
	t.Run("vm", func(t *testing.T) { checkVmJSON(t, s, "vm") })
	t.Run("vm 1", func(t *testing.T) { checkVmJSON(t, s, "vm 1") })
	t.Run("swap", func(t *testing.T) { checkSwapJSON(t, s) })
	t.Run("mount", func(t *testing.T) { checkMountJSON(t, s, "mount") })
	t.Run("mount -n 1", func(t *testing.T) { checkMountJSON(t, s, "mount -n 1") })
	t.Run("dev", func(t *testing.T) { checkDevJSON(t, s) })
	t.Run("net", func(t *testing.T) { checkNetJSON(t, s) })
	t.Run("timer", func(t *testing.T) { checkTimerJSON(t, s, "timer") })
	t.Run("free", func(t *testing.T) { checkFreeJSON(t, s) })
	t.Run("uptime", func(t *testing.T) { checkUptimeJSON(t, s) })
	t.Run("irq", func(t *testing.T) { checkIRQJSON(t, s, "irq") })
	t.Run("irq -u", func(t *testing.T) { checkIRQJSON(t, s, "irq -u") })
	t.Run("irq 0 4", func(t *testing.T) { checkIRQJSON(t, s, "irq 0 4") })
	t.Run("timer -C 1", func(t *testing.T) { checkTimerJSON(t, s, "timer -C 1") })
	t.Run("explain", func(t *testing.T) {
		var ex Explanation
		jsonRun(t, s, "explain", &ex)
		text := runCmd(t, s, "explain")
		for _, want := range []string{"CAUSE: " + ex.Cause.Summary + "\n", "SIGNATURE: " + ex.Signature + " "} {
			if !strings.Contains(text, want) {
				t.Errorf("explain's text lacks the JSON's %q", want)
			}
		}
	})
}

func textFields(text string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(l, ": ")
		if ok {
			m[strings.TrimSpace(k)] = v
		}
	}
	return m
}

func checkSysJSON(t *testing.T, s *Session) {
	var j SysJSON
	jsonRun(t, s, "sys", &j)
	f := textFields(runCmd(t, s, "sys"))
	kernel := j.Kernel
	if j.Tainted {
		kernel += "  [TAINTED]"
	}
	dump := j.Dumpfile
	if j.Partial {
		dump += "  [PARTIAL DUMP]"
	}
	cpus := strconv.Itoa(j.CPUs)
	if j.OfflineCPUs != 0 {
		cpus += fmt.Sprintf(" [OFFLINE: %d]", j.OfflineCPUs)
	}
	date := time.Unix(j.DateUnix, 0).In(s.Location).Format("Mon Jan _2 15:04:05 MST 2006")
	want := map[string]string{
		"KERNEL": kernel, "DUMPFILE": dump, "CPUS": cpus, "DATE": date,
		"UPTIME": j.Uptime, "TASKS": strconv.Itoa(j.Tasks), "NODENAME": j.Nodename, "RELEASE": j.Release,
		"VERSION": j.Version, "MEMORY": j.Memory,
		"LOAD AVERAGE": fmt.Sprintf("%.2f, %.2f, %.2f", j.LoadAverage[0], j.LoadAverage[1], j.LoadAverage[2]),
	}
	if j.MHz != 0 {
		want["MACHINE"] = fmt.Sprintf("%s  (%d Mhz)", j.Machine, j.MHz)
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("sys %s: text %q, JSON gives %q", k, f[k], v)
		}
	}
	if !strings.HasPrefix(f["PANIC"], strconv.Quote(j.Panic)) && !(j.Panic == "" && f["PANIC"] == "") {
		t.Errorf("sys PANIC: text %q, JSON %q", f["PANIC"], j.Panic)
	}
}

func checkPsJSON(t *testing.T, s *Session, line string) {
	var rows []PsRow
	jsonRun(t, s, line, &rows)
	lines := strings.Split(strings.TrimRight(runCmd(t, s, line), "\n"), "\n")[1:]
	if len(lines) != len(rows) {
		t.Fatalf("ps: %d text lines, %d JSON rows", len(lines), len(rows))
	}
	for i, l := range lines {
		m := rePsLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("ps line %q", l)
		}
		r := rows[i]
		comm := r.Command
		if r.KernelThread {
			comm = "[" + comm + "]"
		}
		got := []string{m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9], m[10]}
		want := []string{map[bool]string{true: ">", false: " "}[r.Active], strconv.FormatInt(r.PID, 10), strconv.FormatInt(r.PPID, 10),
			strconv.Itoa(r.CPU), fmt.Sprintf("%x", uint64(r.Task)), r.State, r.PctMem, strconv.FormatUint(r.VSZKB, 10),
			strconv.FormatUint(r.RSSKB, 10), comm}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("ps line %d: text %q, JSON %q", i, got, want)
		}
	}
}

func checkBtJSON(t *testing.T, s *Session, line string) {
	var tasks []BtTaskJSON
	jsonRun(t, s, line, &tasks)
	var ti, fi, compared = -1, 0, 0
	var last *BtFrameJSON
	regs := map[string]uint64{}
	flushRegs := func() {
		if len(regs) == 0 {
			return
		}
		var have *RegsJSON
		switch {
		case last != nil && last.Exception != nil && uint64(last.Exception.Regs["RIP"]) == regs["RIP"]:
			have = last.Exception
		case ti >= 0 && tasks[ti].UserRegs != nil:
			have = tasks[ti].UserRegs
		}
		if have == nil {
			t.Errorf("%s task %d: registers RIP %x in the text, none in the JSON", line, ti, regs["RIP"])
		} else {
			for k, v := range regs {
				if uint64(have.Regs[k]) != v {
					t.Errorf("%s task %d: %s text %x JSON %x", line, ti, k, v, uint64(have.Regs[k]))
				}
			}
		}
		regs = map[string]uint64{}
	}
	for _, l := range strings.Split(runCmd(t, s, line), "\n") {
		if m := reBtHeader.FindStringSubmatch(l); m != nil {
			flushRegs()
			ti, fi, last = ti+1, 0, nil
			if ti >= len(tasks) {
				t.Fatalf("%s: more tasks in the text than the JSON's %d", line, len(tasks))
			}
			j := tasks[ti]
			if strconv.FormatInt(j.PID, 10) != m[1] || fmt.Sprintf("%x", uint64(j.Task)) != m[2] || strconv.Itoa(j.CPU) != m[3] || j.Command != m[4] {
				t.Errorf("%s header %q, JSON %+v", line, l, j)
			}
			continue
		}
		if m := reBtFrame.FindStringSubmatch(l); m != nil {
			flushRegs()
			if ti < 0 || fi >= len(tasks[ti].Frames) {
				t.Fatalf("%s: frame %q beyond the JSON's", line, l)
			}
			f := &tasks[ti].Frames[fi]
			if f.Level < 0 {
				fi++
				f = &tasks[ti].Frames[fi]
			}
			fi++
			compared++
			last = f
			if strconv.Itoa(f.Level) != m[1] || uint64(f.SP) != hexOf(t, m[2]) || f.Function != m[3] || uint64(f.PC) != hexOf(t, m[4]) || f.Module != m[5] {
				t.Errorf("%s frame %q, JSON %+v", line, l, *f)
			}
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(l), "RIP: ") || len(regs) > 0 && reBtRegs.MatchString(l) && strings.HasPrefix(l, "    ") {
			for _, m := range reBtRegs.FindAllStringSubmatch(l, -1) {
				regs[m[1]] = hexOf(t, m[2])
			}
			if strings.Contains(l, "ORIG_RAX") {
				if ti >= 0 && fi == 0 && len(tasks[ti].Frames) > 0 && tasks[ti].Frames[0].Level < 0 {
					last = &tasks[ti].Frames[0]
				}
				flushRegs()
			}
		}
	}
	flushRegs()
	if compared == 0 {
		t.Errorf("%s: no frame compared", line)
	}
	if ti != len(tasks)-1 {
		t.Errorf("%s: %d tasks in the text, %d in the JSON", line, ti+1, len(tasks))
	}
}

func checkModJSON(t *testing.T, s *Session) {
	var mods []ModuleJSON
	jsonRun(t, s, "mod", &mods)
	text := strings.TrimRight(runCmd(t, s, "mod"), "\n")
	if len(mods) == 0 {
		if strings.Contains(text, "\n") {
			t.Errorf("mod: no JSON modules, text:\n%s", text)
		}
		return
	}
	lines := strings.Split(text, "\n")[1:]
	if len(lines) != len(mods) {
		t.Fatalf("mod: %d text lines, %d JSON", len(lines), len(mods))
	}
	for i, l := range lines {
		f := strings.Fields(l)
		m := mods[i]
		if len(f) < 4 || hexOf(t, f[0]) != uint64(m.Module) || f[1] != m.Name || hexOf(t, f[2]) != uint64(m.Base) || f[3] != strconv.FormatUint(m.Size, 10) ||
			strings.Contains(l, "[CONFIG_KALLSYMS]") != m.Kallsyms {
			t.Errorf("mod line %q, JSON %+v", l, m)
		}
	}
}

func checkKmemJSON(t *testing.T, s *Session) {
	var j KmemInfoJSON
	jsonRun(t, s, "kmem -i", &j)
	pages := map[string]string{}
	for _, l := range strings.Split(runCmd(t, s, "kmem -i"), "\n") {
		f := strings.Fields(l)
		for i := 1; i < len(f); i++ {
			if _, err := strconv.ParseInt(f[i], 10, 64); err == nil {
				pages[strings.Join(f[:i], " ")] = f[i]
				break
			}
		}
	}
	want := map[string]int64{"TOTAL MEM": int64(j.TotalMem), "FREE": int64(j.Free), "USED": int64(j.Used),
		"SHARED": int64(j.Shared), "BUFFERS": int64(j.Buffers), "CACHED": j.Cached, "SLAB": int64(j.Slab)}
	if j.Huge != nil {
		want["TOTAL HUGE"], want["HUGE FREE"] = int64(j.Huge.Total), int64(j.Huge.Free)
	}
	if j.Swap != nil {
		want["TOTAL SWAP"], want["SWAP USED"], want["SWAP FREE"] = int64(j.Swap.Total), int64(j.Swap.Used), int64(j.Swap.Free)
	}
	if j.Commit != nil {
		want["COMMIT LIMIT"], want["COMMITTED"] = int64(j.Commit.Limit), j.Commit.Committed
	}
	if len(pages) != len(want) {
		t.Errorf("kmem -i: text rows %v, JSON %v", pages, want)
	}
	for k, v := range want {
		if pages[k] != strconv.FormatInt(v, 10) {
			t.Errorf("kmem -i %s: text %q, JSON %d", k, pages[k], v)
		}
	}
}

func checkLogJSON(t *testing.T, s *Session) {
	var j LogJSON
	jsonRun(t, s, "log", &j)
	var want []string
	for _, r := range j.Records {
		for i, l := range strings.Split(r.Text, "\n") {
			if i == 0 && j.Format != "plain log_buf" {
				us := r.TimeNsec / 1000
				l = fmt.Sprintf("[%5d.%06d] %s", us/1e6, us%1e6, l)
			} else if j.Format != "plain log_buf" {
				l = strings.Repeat(" ", 15) + l
			}
			want = append(want, l)
		}
	}
	got := strings.Split(strings.TrimSuffix(runCmd(t, s, "log"), "\n"), "\n")
	if len(got) < len(want) {
		t.Fatalf("log: %d text lines, %d from the JSON", len(got), len(want))
	}
	for i := range want {
		if strings.TrimRight(got[i], " ") != strings.TrimRight(want[i], " ") {
			t.Fatalf("log line %d: text %q, JSON %q", i, got[i], want[i])
		}
	}
}

// TestJSONErrors: a failure and a command without a JSON form are JSON
// documents too, the session's own commands still run as text, and the
// text output is back after "set output text".
func TestJSONErrors(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	s := openTestbed(t, d)
	defer s.Close()
	textPs := runCmd(t, s, "ps")
	if err := s.SetJSONOutput(true); err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]string{
		"kmem -S":      `{"command":"kmem -S","error":"kmem: -S has no JSON output (the JSON form of kmem takes -V or -f or -i or -s or -z)"}`,
		"rd jiffies":   `{"command":"rd jiffies","error":"rd: rd has no JSON output (docs/json.md lists the commands that have)"}`,
		"foreach task": `{"command":"foreach task","error":"foreach: task has no JSON output (the JSON form of foreach takes bt or files or ps or sig or vm)"}`,
		"bt 99999":     `{"command":"bt 99999","error":"bt: invalid task or pid value: 99999"}`,
		"ps 99999":     `{"command":"ps 99999","error":"ps: invalid task or pid value: 99999"}`,
		"swap -x":      `{"command":"swap -x","error":"swap: invalid option -- 'x'; usage: swap  "}`,
		"sys -q":       `{"command":"sys -q","error":"sys: -q has no JSON output (the JSON form of sys takes no arguments)"}`,
	} {
		var b bytes.Buffer
		Run(s, line, &b)
		if got := strings.TrimSpace(b.String()); got != want {
			t.Errorf("%s: %s, want %s", line, got, want)
		}
		var doc map[string]any
		if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Errorf("%s: not JSON: %v: %s", line, err, b.String())
		}
	}
	if out := runCmd(t, s, "set output text"); out != "output: text\n" {
		t.Errorf("set output text: %q", out)
	}
	if got := runCmd(t, s, "ps"); got != textPs {
		t.Error("ps after set output text differs from ps before JSON")
	}
}

func checkRunqJSON(t *testing.T, s *Session) {
	var cpus []RunqCPUJSON
	jsonRun(t, s, "runq", &cpus)
	task := func(j RunqTaskJSON) string {
		return fmt.Sprintf("PID: %-5d  TASK: %x  COMMAND: \"%s\"", j.PID, uint64(j.Task), j.Command)
	}
	var want []string
	for i, c := range cpus {
		if i > 0 {
			want = append(want, "")
		}
		want = append(want, fmt.Sprintf("CPU %d RUNQUEUE: %x", c.CPU, uint64(c.Runqueue)))
		if c.Current != nil {
			want = append(want, "  CURRENT: "+task(*c.Current))
		} else {
			want = append(want, fmt.Sprintf("  CURRENT: %x", uint64(c.CurrentAddr)))
		}
		for _, q := range []struct {
			head string
			addr Addr
			list []RunqTaskJSON
		}{{"  RT PRIO_ARRAY: ", c.RTPrioArray, c.RT}, {"  CFS RB_ROOT: ", c.CFSRoot, c.CFS}} {
			want = append(want, fmt.Sprintf("%s%x", q.head, uint64(q.addr)))
			for _, e := range q.list {
				want = append(want, fmt.Sprintf("     [%3d] %s", e.Prio, task(e)))
			}
			if len(q.list) == 0 {
				want = append(want, "     [no tasks queued]")
			}
		}
	}
	got := strings.Split(strings.TrimSuffix(runCmd(t, s, "runq"), "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("runq text:\n%s\nfrom the JSON:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func checkKmemSlabJSON(t *testing.T, s *Session) {
	text := runCmd(t, s, "kmem -s")
	if strings.HasPrefix(text, "kmem: ") {
		// SLUB_TINY (6.12 here): no slab table; JSON says so too.
		if err := s.SetJSONOutput(true); err != nil {
			t.Fatal(err)
		}
		defer s.SetJSONOutput(false)
		var b bytes.Buffer
		Run(s, "kmem -s", &b)
		want := strings.TrimSpace(strings.SplitN(text, "\n", 2)[0])
		if !strings.Contains(b.String(), `"error":"`) || !strings.Contains(b.String(), strings.TrimPrefix(want, "kmem: ")[:20]) {
			t.Errorf("kmem -s text %q, JSON %s", want, b.String())
		}
		return
	}
	var caches []KmemCacheJSON
	jsonRun(t, s, "kmem -s", &caches)
	var want []string
	for _, c := range caches {
		if !c.Gathered {
			t.Fatalf("cache %s not gathered: compare by hand", c.Name)
		}
		want = append(want, fmt.Sprintf("%-16x %8d  %9d  %8d  %5d  %4dk  %s", uint64(c.Cache), c.ObjSize, c.Allocated, c.Total, c.Slabs, c.SSizeKB, c.Name))
	}
	got := strings.Split(strings.TrimSuffix(text, "\n"), "\n")[1:]
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("kmem -s text:\n%s\nfrom the JSON:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// checkFilesJSON: files' text, field by field, against the JSON.
func checkFilesJSON(t *testing.T, s *Session, line string) {
	var tasks []FilesTaskJSON
	jsonRun(t, s, line, &tasks)
	text := strings.Split(strings.TrimRight(runCmd(t, s, line), "\n"), "\n")
	ti := -1
	fi := 0
	hex0 := func(a Addr) string {
		if a == 0 {
			return "?"
		}
		return fmt.Sprintf("%x", uint64(a))
	}
	for _, l := range text {
		switch {
		case reBtHeader.MatchString(l):
			ti++
			fi = 0
			if ti >= len(tasks) {
				t.Fatalf("%s: more tasks in the text than the JSON's %d", line, len(tasks))
			}
			m := reBtHeader.FindStringSubmatch(l)
			j := tasks[ti]
			if m[1] != strconv.FormatInt(j.PID, 10) || m[2] != fmt.Sprintf("%x", uint64(j.Task)) || m[4] != j.Command {
				t.Errorf("%s header %q, JSON %+v", line, l, j)
			}
		case strings.HasPrefix(l, "ROOT: "):
			if want := fmt.Sprintf("ROOT: %s    CWD: %s", tasks[ti].Root, tasks[ti].Cwd); strings.TrimRight(l, " ") != want {
				t.Errorf("%s: %q, JSON %q", line, l, want)
			}
		case strings.HasPrefix(l, " FD "), l == "", l == "No open files":
		default:
			f := strings.Fields(l)
			if ti < 0 || fi >= len(tasks[ti].Files) || len(f) < 5 {
				t.Fatalf("%s: file line %q beyond the JSON", line, l)
			}
			j := tasks[ti].Files[fi]
			fi++
			path := ""
			if len(f) > 5 {
				path = strings.Join(f[5:], " ")
			}
			got := strings.Join([]string{f[0], f[1], f[2], f[3], f[4], path}, "|")
			want := strings.Join([]string{strconv.Itoa(j.FD), hex0(j.File), hex0(j.Dentry), hex0(j.Inode), j.Type, j.Path}, "|")
			if got != want {
				t.Errorf("%s: text %q, JSON %q", line, got, want)
			}
		}
	}
	if ti != len(tasks)-1 {
		t.Errorf("%s: %d tasks in the text, %d in the JSON", line, ti+1, len(tasks))
	}
}

// checkVmJSON rebuilds vm's text from the JSON with vm's own layout
// (vmData, vmaHeader, vmaLine) and compares.
func checkVmJSON(t *testing.T, s *Session, line string) {
	var tasks []VmTaskJSON
	jsonRun(t, s, line, &tasks)
	var b strings.Builder
	for i, j := range tasks {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "PID: %-7d  TASK: %-16x  CPU: %-3d  COMMAND: \"%s\"\n", j.PID, uint64(j.Task), j.CPU, j.Command)
		hex := func(v Addr) string { return center(strconv.FormatUint(uint64(v), 16), 16, false) }
		b.WriteString(center("MM", 16, false) + "  " + center("PGD", 16, false) + "  " + center("RSS", 6, false) + "  " + center("TOTAL_VM", 8, false) + "\n")
		b.WriteString(hex(j.MM) + "  " + hex(j.PGD) + "  " + center(fmt.Sprintf("%dk", j.RSSKB), 6, false) + "  " + center(fmt.Sprintf("%dk", j.TotalVMKB), 8, false) + "\n")
		if j.MM == 0 {
			continue
		}
		b.WriteString(vmaHeader)
		for _, v := range j.VMAs {
			fmt.Fprintf(&b, "%s %10x %10x %6x %s\n", hex(v.VMA), uint64(v.Start), uint64(v.End), uint64(v.Flags), v.File)
		}
	}
	got := runCmd(t, s, line)
	if strings.TrimRight(got, "\n") != strings.TrimRight(b.String(), "\n") {
		t.Errorf("%s text:\n%s\nfrom the JSON:\n%s", line, got, b.String())
	}
}

func checkSwapJSON(t *testing.T, s *Session) {
	var rows []SwapAreaJSON
	jsonRun(t, s, "swap", &rows)
	lines := strings.Split(strings.TrimRight(runCmd(t, s, "swap"), "\n"), "\n")[1:]
	if len(lines) != len(rows) {
		t.Fatalf("swap: %d text lines, %d JSON rows", len(lines), len(rows))
	}
	for i, l := range lines {
		f := strings.Fields(l)
		r := rows[i]
		want := []string{fmt.Sprintf("%x", uint64(r.SwapInfo)), r.Type, fmt.Sprintf("%dk", r.SizeKB), fmt.Sprintf("%dk", r.UsedKB),
			fmt.Sprintf("%d%%", r.Pct), strconv.FormatInt(r.Priority, 10), r.Filename}
		if strings.Join(f, " ") != strings.Join(want, " ") {
			t.Errorf("swap line %q, JSON %q", f, want)
		}
	}
}

func checkMountJSON(t *testing.T, s *Session, line string) {
	var rows []MountJSON
	jsonRun(t, s, line, &rows)
	lines := strings.Split(strings.TrimRight(runCmd(t, s, line), "\n"), "\n")[1:]
	if len(lines) != len(rows) {
		t.Fatalf("%s: %d text lines, %d JSON rows", line, len(lines), len(rows))
	}
	for i, l := range lines {
		r := rows[i]
		if r.Error != "" {
			if l != "mount: WARNING: "+r.Error {
				t.Errorf("%s line %q, JSON error %q", line, l, r.Error)
			}
			continue
		}
		typ, dev := r.Type, r.DevName
		if typ == "" {
			typ = "unknown"
		}
		if dev == "" {
			dev = "(unknown)"
		}
		want := []string{fmt.Sprintf("%x", uint64(r.Mount)), fmt.Sprintf("%x", uint64(r.Superblock)), typ, dev, r.DirName}
		if f := strings.Fields(l); strings.Join(f, " ") != strings.Join(want, " ") {
			t.Errorf("%s line %q, JSON %q", line, f, want)
		}
	}
	if len(rows) == 0 {
		t.Errorf("%s: no mounts", line)
	}
}

func checkDevJSON(t *testing.T, s *Session) {
	var j DevJSON
	jsonRun(t, s, "dev", &j)
	chr, blk, ok := strings.Cut(strings.TrimRight(runCmd(t, s, "dev"), "\n"), "\n\n")
	if !ok {
		t.Fatal("dev: no blank line between the tables")
	}
	line := func(major int, name string, addr Addr, ops string) string {
		if ops == "" {
			return fmt.Sprintf("%d %s (none)", major, name)
		}
		return fmt.Sprintf("%d %s %x %s", major, name, uint64(addr), ops)
	}
	var want []string
	for _, c := range j.Char {
		want = append(want, line(c.Major, c.Name, c.Cdev, c.Operations))
	}
	for _, e := range j.Errors {
		// The text prints the lines it read, then "dev: ERROR".
		if e.Field != "BLKDEV" || !strings.HasSuffix(blk, "\ndev: "+e.Error) {
			t.Errorf("dev: JSON error %+v, text's BLKDEV table:\n%s", e, blk)
		}
		blk = strings.TrimSuffix(blk, "\ndev: "+e.Error)
	}
	compareTable(t, "dev CHRDEV", chr, want)
	want = nil
	for _, b := range j.Block {
		name := b.Name
		if name == "" {
			name = "(unknown)"
		}
		want = append(want, line(b.Major, name, b.Gendisk, b.Operations))
	}
	compareTable(t, "dev BLKDEV", blk, want)
}

func checkNetJSON(t *testing.T, s *Session) {
	var rows []NetDeviceJSON
	jsonRun(t, s, "net", &rows)
	var want []string
	for _, r := range rows {
		want = append(want, strings.TrimSpace(fmt.Sprintf("%x %s %s", uint64(r.NetDevice), r.Name, strings.Join(r.Addresses, ", "))))
	}
	compareTable(t, "net", strings.TrimRight(runCmd(t, s, "net"), "\n"), want)
	if len(rows) == 0 {
		t.Error("net: no devices")
	}
}

// compareTable compares a table's lines after its header, blanks
// squeezed, with want.
func compareTable(t *testing.T, what, text string, want []string) {
	t.Helper()
	lines := strings.Split(text, "\n")[1:]
	if len(lines) != len(want) {
		t.Fatalf("%s: %d text lines, %d JSON rows", what, len(lines), len(want))
	}
	for i, l := range lines {
		if got := strings.Join(strings.Fields(l), " "); got != want[i] {
			t.Errorf("%s line %d: text %q, JSON %q", what, i, got, want[i])
		}
	}
}

func checkTimerJSON(t *testing.T, s *Session, line string) {
	var j TimerJSON
	jsonRun(t, s, line, &j)
	want := []string{"JIFFIES", strconv.FormatUint(j.Jiffies, 10)}
	for _, b := range j.Bases {
		want = append(want, fmt.Sprintf("TIMER_BASES[%d][%s]: %x", b.CPU, b.Base, uint64(b.TimerBase)), "EXPIRES TTE TIMER_LIST FUNCTION")
		for _, e := range b.Timers {
			want = append(want, fmt.Sprintf("%d %d %x %x <%s>", e.Expires, e.TTE, uint64(e.TimerList), uint64(e.Function), e.FunctionName))
		}
		if len(b.Timers) == 0 {
			want = append(want, "(none)")
		}
	}
	var got []string
	for _, l := range strings.Split(runCmd(t, s, line), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			got = append(got, strings.Join(f, " "))
		}
	}
	compareTable(t, line, "\n"+strings.Join(got, "\n"), want)
	if len(j.Bases) == 0 {
		t.Errorf("%s: no timer bases", line)
	}
}

func checkIRQJSON(t *testing.T, s *Session, line string) {
	var rows []IRQJSON
	jsonRun(t, s, line, &rows)
	var want []string
	for _, r := range rows {
		w := strconv.Itoa(r.IRQ)
		if r.Desc == 0 {
			w += " (unused)"
		} else {
			w += fmt.Sprintf(" %x", uint64(r.Desc))
		}
		if len(r.Actions) == 0 {
			w += " (unused)"
		}
		for i, a := range r.Actions {
			if i > 0 {
				want = append(want, w)
				w = ""
			}
			w = strings.TrimSpace(w + fmt.Sprintf(" %x", uint64(a.Action)))
			if a.Name != nil {
				w += ` "` + *a.Name + `"`
			}
		}
		want = append(want, w)
	}
	compareTable(t, line, strings.TrimRight(runCmd(t, s, line), "\n"), want)
	if len(rows) == 0 {
		t.Errorf("%s: no IRQs", line)
	}
}

func checkFreeJSON(t *testing.T, s *Session) {
	var j FreeJSON
	jsonRun(t, s, "free", &j)
	k := func(v uint64) string { return strconv.FormatUint(v/1024, 10) }
	want := []string{"Mem: " + strings.Join([]string{k(j.Total), k(j.Used), k(j.Free), k(j.Shared), k(j.Buffers + j.Cache), k(j.Available)}, " "),
		"Swap: " + strings.Join([]string{k(j.SwapTotal), k(j.SwapUsed), k(j.SwapFree)}, " ")}
	compareTable(t, "free", strings.TrimRight(runCmd(t, s, "free"), "\n"), want)
	want[0] = "Mem: " + strings.Join([]string{k(j.Total), k(j.Used), k(j.Free), k(j.Shared), k(j.Buffers), k(j.Cache), k(j.Available)}, " ")
	compareTable(t, "free -w", strings.TrimRight(runCmd(t, s, "free -w"), "\n"), want)
}

func checkUptimeJSON(t *testing.T, s *Session) {
	var j UptimeJSON
	jsonRun(t, s, "uptime", &j)
	now, err := time.Parse(time.RFC3339, j.Time)
	if err != nil {
		t.Fatal(err)
	}
	up := time.Duration(j.UptimeSeconds * float64(time.Second))
	want := fmt.Sprintf(" %02d:%02d:%02d up %s,  load average: %.2f, %.2f, %.2f\n", now.Hour(), now.Minute(), now.Second(), uptimeSpan(up),
		j.LoadAverage[0], j.LoadAverage[1], j.LoadAverage[2])
	if got := runCmd(t, s, "uptime"); got != want {
		t.Errorf("uptime: text %q, JSON gives %q", got, want)
	}
	since, err := time.Parse(time.RFC3339, j.Since)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := runCmd(t, s, "uptime -s"), since.Format("2006-01-02 15:04:05")+"\n"; got != want {
		t.Errorf("uptime -s: text %q, JSON gives %q", got, want)
	}
}

// checkSymJSON rebuilds each sym line from the JSON (show's layout) and
// compares it with the text.
func checkSymJSON(t *testing.T, s *Session, line string) {
	var syms []SymJSON
	jsonRun(t, s, line, &syms)
	var b strings.Builder
	for _, j := range syms {
		if j.Module != "" && strings.HasPrefix(j.Name, "_MODULE_START_") {
			fmt.Fprintf(&b, "%x (%s) (%s module)", uint64(j.Address), j.Type, strings.TrimPrefix(j.Name, "_MODULE_START_"))
			if j.Offset != 0 {
				fmt.Fprintf(&b, "+0x%x", j.Offset)
			}
			b.WriteString("\n")
			continue
		}
		fmt.Fprintf(&b, "%x (%s) %s", uint64(j.Address), j.Type, j.Name)
		if j.Offset != 0 {
			fmt.Fprintf(&b, "+%d", j.Offset)
		}
		if j.Module != "" {
			fmt.Fprintf(&b, " [%s]", j.Module)
		}
		if j.Text {
			b.WriteString(" " + j.Source)
		}
		b.WriteString("\n")
	}
	if got := runCmd(t, s, line); got != b.String() {
		t.Errorf("%s text:\n%s\nfrom the JSON:\n%s", line, got, b.String())
	}
	if len(syms) == 0 {
		t.Errorf("%s: no symbol", line)
	}
}

// checkSymJSONs: symbols, addresses inside a function and a module, -p/-n
// and -q.
func checkSymJSONs(t *testing.T, s *Session) {
	for _, line := range []string{"sym jiffies", "sym -np schedule", "sym -q schedule_t", "sym schedule panic"} {
		checkSymJSONIfText(t, s, line)
	}
	var syms []SymJSON
	jsonRun(t, s, "sym schedule", &syms)
	checkSymJSON(t, s, fmt.Sprintf("sym -p %x", uint64(syms[0].Address)+16))
	var mods []ModuleJSON
	jsonRun(t, s, "mod", &mods)
	for _, m := range mods {
		checkSymJSONIfText(t, s, fmt.Sprintf("sym %x %x", uint64(m.Base), uint64(m.Base)+8))
	}
}

// sigFromJSON is the kernel.TaskSignals a SigTaskJSON carries.
func sigFromJSON(j SigTaskJSON) *kernel.TaskSignals {
	ts := &kernel.TaskSignals{SignalStruct: uint64(j.SignalStruct), NrThreads: j.NrThreads, SigPending: j.SigPending,
		Blocked: uint64(j.Blocked), Pending: uint64(j.Pending), SharedSignal: uint64(j.SharedSignal)}
	for _, a := range j.Actions {
		ts.Actions = append(ts.Actions, kernel.SigAction{Addr: uint64(a.Sigaction), Handler: uint64(a.Handler), Mask: uint64(a.Mask), Flags: uint64(a.Flags)})
	}
	for _, q := range j.Queue {
		ts.Queue = append(ts.Queue, kernel.SigQueued{Signo: q.Signal, Info: uint64(q.Siginfo)})
	}
	for _, q := range j.SharedQueue {
		ts.SharedQueue = append(ts.SharedQueue, kernel.SigQueued{Signo: q.Signal, Info: uint64(q.Siginfo)})
	}
	return ts
}

// checkSigJSON prints sig's text from the JSON's values with sig's own
// layout (signalData) and compares it with sig's text; the names the
// JSON adds are checked against sig -l's list.
func checkSigJSON(t *testing.T, s *Session, line string) {
	var tasks []SigTaskJSON
	jsonRun(t, s, line, &tasks)
	foreach := strings.HasPrefix(line, "foreach")
	var b strings.Builder
	list := runCmd(t, s, "sig -l")
	for i, j := range tasks {
		if foreach && i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "PID: %-7d  TASK: %-16x  CPU: %-3d  COMMAND: \"%s\"\n", j.PID, uint64(j.Task), j.CPU, j.Command)
		b.WriteString(signalData(sigFromJSON(j), sigTaskLevel|sigGroupLevel))
		if !foreach {
			b.WriteString("\n")
		}
		for _, a := range j.Actions {
			if !strings.Contains(list, fmt.Sprintf("[%d] %s", a.Signal, a.Name)) {
				t.Errorf("%s: signal %d is %s, not in sig -l", line, a.Signal, a.Name)
			}
		}
	}
	if got := runCmd(t, s, line); got != b.String() {
		t.Errorf("%s text:\n%s\nfrom the JSON:\n%s", line, got, b.String())
	}
	if len(tasks) == 0 {
		t.Errorf("%s: no task", line)
	}
}

// checkSymJSONIfText is checkSymJSON where sym's text answers: gocrash's
// sym does not read 6.4+ kernels' module tables yet (struct
// module_memory), and its text fails there too.
func checkSymJSONIfText(t *testing.T, s *Session, line string) {
	var b strings.Builder
	if err := Run(s, line, &b); err != nil || strings.Contains(b.String(), "invalid address") {
		t.Logf("%s: %v %s", line, err, b.String())
		return
	}
	checkSymJSON(t, s, line)
}

// checkDisJSON rebuilds dis's lines from the JSON and compares them with
// its text.
func checkDisJSON(t *testing.T, s *Session, line string) {
	var text strings.Builder
	if err := Run(s, line, &text); err != nil {
		// A module's text on 6.4+ kernels, say: the text fails too.
		t.Logf("%s: %v", line, err)
		return
	}
	var insts []DisInstJSON
	jsonRun(t, s, line, &insts)
	var b strings.Builder
	if strings.HasPrefix(text.String(), "WARNING: ") {
		l, _, _ := strings.Cut(text.String(), "\n")
		b.WriteString(l + "\n")
	}
	src := ""
	for _, j := range insts {
		if j.Source != src {
			b.WriteString(j.Source + "\n")
			src = j.Source
		}
		if j.Mnemonic != strings.Fields(j.Instruction)[0] {
			t.Errorf("%s: mnemonic %q of %q", line, j.Mnemonic, j.Instruction)
		}
		if j.Symbol == "" {
			fmt.Fprintf(&b, "   0x%x:\t%s\n", uint64(j.Address), j.Instruction)
			continue
		}
		fmt.Fprintf(&b, "0x%x <%s>:\t%s", uint64(j.Address), j.Symbol, j.Instruction)
		if j.TargetSymbol != "" {
			fmt.Fprintf(&b, " <%s>", j.TargetSymbol)
		}
		if j.FtraceNop {
			b.WriteString(" [FTRACE NOP]")
		}
		b.WriteString("\n")
	}
	for i := 1; i < len(insts); i++ {
		if p := insts[i-1]; uint64(p.Address)+uint64(p.Length) != uint64(insts[i].Address) && insts[i].Symbol != "" {
			t.Errorf("%s: instruction at %x of %d bytes, the next at %x", line, uint64(p.Address), p.Length, uint64(insts[i].Address))
		}
	}
	if text.String() != b.String() {
		t.Errorf("%s text:\n%s\nfrom the JSON:\n%s", line, text.String(), b.String())
	}
	if len(insts) == 0 {
		t.Errorf("%s: no instruction", line)
	}
}

func checkDisJSONs(t *testing.T, s *Session) {
	for _, line := range []string{"dis schedule", "dis panic", "dis -l schedule 12", "dis -r schedule+16", "dis -f schedule+16",
		"dis -x schedule 8", "dis -d schedule 8"} {
		checkDisJSON(t, s, line)
	}
	var mods []ModuleJSON
	jsonRun(t, s, "mod", &mods)
	for _, m := range mods {
		checkDisJSON(t, s, fmt.Sprintf("dis %x 16", uint64(m.Base)))
	}
}

func countersOf(cs []CounterJSON) []kernel.Counter {
	var out []kernel.Counter
	for _, c := range cs {
		out = append(out, kernel.Counter{Name: c.Name, Value: c.Value})
	}
	return out
}

// checkKmemVJSON prints kmem -V's text from the JSON with kmem's layout
// (writeCounters) and compares.
func checkKmemVJSON(t *testing.T, s *Session) {
	var text strings.Builder
	if err := Run(s, "kmem -V", &text); err != nil {
		t.Skipf("kmem -V: %v", err)
	}
	var j KmemVMStatJSON
	jsonRun(t, s, "kmem -V", &j)
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	zone, node, numa := countersOf(j.ZoneStat), countersOf(j.NodeStat), countersOf(j.NumaStat)
	width := longest(zone, node, numa)
	w.WriteString("  VM_ZONE_STAT:\n")
	writeCounters(w, width, zone, false)
	w.WriteString("\n  VM_NODE_STAT:\n")
	writeCounters(w, width, node, false)
	if len(numa) > 0 {
		w.WriteString("\n  VM_NUMA_STAT:\n")
		writeCounters(w, width, numa, false)
	}
	if j.Events != nil {
		var ev []kernel.Counter
		for _, e := range j.Events {
			ev = append(ev, kernel.Counter{Name: e.Name, Value: int64(e.Value)})
		}
		w.WriteString("\n  VM_EVENT_STATES:\n")
		writeCounters(w, longest(ev), ev, true)
	}
	w.Flush()
	if text.String() != b.String() {
		t.Errorf("kmem -V text:\n%s\nfrom the JSON:\n%s", text.String(), b.String())
	}
	if len(j.ZoneStat) == 0 {
		t.Error("kmem -V: no counter")
	}
}

// checkKmemZJSON: kmem -z likewise.
func checkKmemZJSON(t *testing.T, s *Session) {
	var text strings.Builder
	if err := Run(s, "kmem -z", &text); err != nil {
		t.Skipf("kmem -z: %v", err)
	}
	var zones []KmemZoneJSON
	jsonRun(t, s, "kmem -z", &zones)
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	for _, z := range zones {
		name := "(unknown) "
		if z.Name != "" {
			name = z.Name
		}
		fmt.Fprintf(w, "NODE: %d  ZONE: %d  ADDR: %x  NAME: \"%s\"\n", z.Node, z.Zone, uint64(z.Addr), name)
		if z.Unpopulated {
			w.WriteString("  [unpopulated]\n\n")
			continue
		}
		fmt.Fprintf(w, "  SIZE: %d", z.Size)
		if z.Present < z.Size {
			fmt.Fprintf(w, "  PRESENT: %d", z.Present)
		}
		fmt.Fprintf(w, "  MIN/LOW/HIGH: %d/%d/%d", z.Min, z.Low, z.High)
		w.WriteString("\n  VM_STAT:\n")
		st := countersOf(z.VMStat)
		writeCounters(w, longest(st), st, false)
		w.WriteString("\n\n")
	}
	w.Flush()
	if text.String() != b.String() {
		t.Errorf("kmem -z text:\n%s\nfrom the JSON:\n%s", text.String(), b.String())
	}
	if len(zones) == 0 {
		t.Error("kmem -z: no zone")
	}
}

// checkAddrsJSON compares list's or tree's JSON addresses with the
// lines of their text, where the text answers.
func checkAddrsJSON(t *testing.T, s *Session, line string) int {
	var text strings.Builder
	if err := Run(s, line, &text); err != nil {
		t.Logf("%s: %v", line, err)
		return 0
	}
	var addrs []Addr
	jsonRun(t, s, line, &addrs)
	var b strings.Builder
	for _, a := range addrs {
		fmt.Fprintf(&b, "%x\n", uint64(a))
	}
	want := text.String()
	if want == "(empty)\n" {
		want = ""
	}
	if b.String() != want {
		t.Errorf("%s text:\n%s\nfrom the JSON:\n%s", line, text.String(), b.String())
	}
	return len(addrs)
}

func checkListTreeJSON(t *testing.T, s *Session) {
	var syms []SymJSON
	jsonRun(t, s, "sym init_task", &syms)
	n := 0
	for _, line := range []string{"list -H super_blocks", "list -r -H super_blocks", "list -o super_block.s_list -H super_blocks",
		"list -H modules", fmt.Sprintf("list task_struct.tasks -h %x", uint64(syms[0].Address))} {
		n += checkAddrsJSON(t, s, line)
	}
	if n == 0 {
		t.Error("list: no entry compared")
	}
	var vms []VmTaskJSON
	jsonRun(t, s, "vm 1", &vms)
	mm1 := fmt.Sprintf("%x", uint64(vms[0].MM))
	n = 0
	for _, line := range []string{"tree -t rbtree -o vmap_area.rb_node vmap_area_root", "tree -t rbtree -o vmap_area.rb_node -l vmap_area_root",
		"tree -t xarray irq_desc_tree", "tree -t maple sparse_irqs", "tree -t maple -r mm_struct.mm_mt " + mm1} {
		n += checkAddrsJSON(t, s, line)
	}
	if n == 0 {
		t.Error("tree: no entry compared")
	}
}

// checkWaitqJSON compares waitq's JSON with its text: kswapd and
// kcompactd waiting on their node's queues, and log_wait.
func checkWaitqJSON(t *testing.T, s *Session) {
	lines := []string{"waitq log_wait"}
	var text strings.Builder
	if err := Run(s, "sym contig_page_data", &text); err == nil && !strings.Contains(text.String(), "not found") {
		var syms []SymJSON
		jsonRun(t, s, "sym contig_page_data", &syms)
		for _, q := range []string{"kswapd_wait", "kcompactd_wait"} {
			lines = append(lines, fmt.Sprintf("waitq pglist_data.%s %x", q, uint64(syms[0].Address)))
		}
	}
	n := 0
	for _, line := range lines {
		var j WaitqJSON
		jsonRun(t, s, line, &j)
		var b strings.Builder
		for _, x := range j.Tasks {
			fmt.Fprintf(&b, "PID: %-7d  TASK: %-16x  CPU: %-3d  COMMAND: \"%s\"\n", x.PID, uint64(x.Task), x.CPU, x.Command)
		}
		if len(j.Tasks) == 0 {
			if j.Name != "" {
				fmt.Fprintf(&b, "wait queue \"%s\" (%x) is empty\n", j.Name, uint64(j.Queue))
			} else {
				fmt.Fprintf(&b, "wait queue %x is empty\n", uint64(j.Queue))
			}
		}
		if got := runCmd(t, s, line); got != b.String() {
			t.Errorf("%s text:\n%s\nfrom the JSON:\n%s", line, got, b.String())
		}
		n += len(j.Tasks)
	}
	if len(lines) > 1 && n == 0 {
		t.Error("waitq: no waiting task compared")
	}
}

// checkKmemFreeJSON compares kmem -f's JSON with the numbers of its text:
// each zone line, each AREA line in order, and nr_free_pages.
func checkKmemFreeJSON(t *testing.T, s *Session) {
	var text strings.Builder
	if err := Run(s, "kmem -f", &text); err != nil {
		t.Skipf("kmem -f: %v", err)
	}
	var j KmemFreeJSON
	jsonRun(t, s, "kmem -f", &j)
	var zones, areas []string
	for _, l := range strings.Split(text.String(), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 7 && isDecWord(f[0]) && isDecWord(f[2]):
			zones = append(zones, strings.Join(f, " "))
		case len(f) == 5 && isDecWord(f[0]) && strings.HasSuffix(f[1], "k"):
			areas = append(areas, strings.Join(f, " "))
		case strings.HasPrefix(l, "nr_free_pages: "):
			want := fmt.Sprintf("nr_free_pages: %d  (verified)", j.NrFreePages)
			if j.FoundPages != j.NrFreePages {
				want = fmt.Sprintf("nr_free_pages: %d  (found %d)", j.NrFreePages, j.FoundPages)
			}
			if l != want {
				t.Errorf("kmem -f: %q, JSON %q", l, want)
			}
		}
	}
	var jz, ja []string
	for _, z := range j.Zones {
		jz = append(jz, fmt.Sprintf("%d %s %d %d %x %x %d", z.Zone, z.Name, z.Size, z.Free, uint64(z.MemMap), uint64(z.StartPaddr), z.StartMapnr))
		for _, a := range z.Areas {
			ja = append(ja, fmt.Sprintf("%d %dk %x %d %d", a.Order, a.SizeKB, uint64(a.FreeArea), a.Blocks, a.Pages))
		}
	}
	if strings.Join(zones, "\n") != strings.Join(jz, "\n") {
		t.Errorf("kmem -f zones, text:\n%s\nJSON:\n%s", strings.Join(zones, "\n"), strings.Join(jz, "\n"))
	}
	if strings.Join(areas, "\n") != strings.Join(ja, "\n") {
		t.Errorf("kmem -f areas, text:\n%s\nJSON:\n%s", strings.Join(areas, "\n"), strings.Join(ja, "\n"))
	}
	if len(ja) == 0 {
		t.Error("kmem -f: no free area compared")
	}
}

// checkVtopJSON checks that every line vtop's JSON implies is in its text
// (the translation, the PGD, each page-table entry, the struct page) and
// that the text has no other page-table entry line.
func checkVtopJSON(t *testing.T, s *Session, line string) {
	var text strings.Builder
	if err := Run(s, line, &text); err != nil {
		t.Logf("%s: %v", line, err)
		return
	}
	var tr []VtopJSON
	jsonRun(t, s, line, &tr)
	have := map[string]bool{}
	steps := 0
	for _, l := range strings.Split(text.String(), "\n") {
		have[strings.TrimRight(l, " ")] = true
		if strings.Contains(l, " => ") || strings.HasPrefix(l, "PAGE DIRECTORY: ") {
			steps++
		}
	}
	var want []string
	n := 0
	for _, j := range tr {
		w := 16
		if j.User {
			w = 10
		}
		switch {
		case j.Mapped:
			want = append(want, strings.TrimRight(fmt.Sprintf("%-*x  %-16x", w, uint64(j.Virtual), uint64(j.Physical)), " "))
		case j.Accessible:
			want = append(want, fmt.Sprintf("%-*x  (not mapped)", w, uint64(j.Virtual)))
		}
		if !j.Accessible {
			continue
		}
		if !j.User {
			want = append(want, fmt.Sprintf("PGD DIRECTORY: %x", uint64(j.PGD)))
		}
		for i, st := range j.Steps {
			n++
			if i == 0 && !j.User {
				want = append(want, fmt.Sprintf("PAGE DIRECTORY: %x", uint64(st.Entry)))
				continue
			}
			want = append(want, fmt.Sprintf("   %s: %x => %x", st.Level, uint64(st.Addr), uint64(st.Entry)))
		}
		if j.Page != nil {
			pw := s.paddrWidth()
			want = append(want, strings.TrimRight(fmt.Sprintf("%-16x %*x %16x %8x %2d %s", uint64(j.Page.Page), pw, uint64(j.Physical)&^0xfff,
				uint64(j.Page.Mapping), uint64(j.Page.Index), j.Page.Count, pageFlagString(uint64(j.Page.Flags), mustPageFlags(t, s))), " "))
		}
	}
	for _, l := range want {
		if !have[l] {
			t.Errorf("%s: the JSON's %q is not in the text:\n%s", line, l, text.String())
		}
	}
	if n != steps {
		t.Errorf("%s: %d page-table entries in the text, %d in the JSON", line, steps, n)
	}
}

func mustPageFlags(t *testing.T, s *Session) []kernel.PageFlag {
	f, err := s.PageFlags()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func checkVtopJSONs(t *testing.T, s *Session) {
	var syms []SymJSON
	jsonRun(t, s, "sym jiffies", &syms)
	lines := []string{fmt.Sprintf("vtop %x", uint64(syms[0].Address)), "vtop -c 1 400000", "vtop -k 1000"}
	var mods []ModuleJSON
	jsonRun(t, s, "mod", &mods)
	for _, m := range mods {
		lines = append(lines, fmt.Sprintf("vtop %x", uint64(m.Base)))
	}
	var vms []VmTaskJSON
	jsonRun(t, s, "vm 1", &vms)
	for i, v := range vms[0].VMAs {
		if i < 4 {
			lines = append(lines, fmt.Sprintf("vtop -c 1 %x", uint64(v.Start)))
		}
	}
	lines = append(lines, fmt.Sprintf("vtop %x %x", uint64(syms[0].Address), uint64(syms[0].Address)+4096))
	for _, l := range lines {
		checkVtopJSON(t, s, l)
	}
}

// FuzzJSONCommandLine runs command lines in JSON mode: every answer is
// one JSON document on one line, never an internal error (a recovered
// panic), and a result fits its command's schema.
func FuzzJSONCommandLine(f *testing.F) {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	s, err := Open(d.Vmlinux, d.Vmcore, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	for k := range JSONResultTypes {
		f.Add(k)
	}
	for _, l := range []string{"foreach RU bt -s", "foreach kernel ps", "foreach 1 vm", "foreach user files", "foreach sig",
		"foreach nosuch bt", "foreach bt -t", "sym -np schedule", "sym -q sched", "sym ffffffffdeadbeef", "dis -l schedule 4",
		"dis -r schedule+16", "dis -u 400000 2", "dis -s panic", "sig 1", "waitq log_wait", "waitq task_struct.signal 1",
		"list -H modules", "list -H super_blocks -s super_block.s_id", "tree -t maple sparse_irqs", "vtop -c 1 400000",
		"vtop ffffffffdeadbeef", "kmem -f", "kmem -V", "kmem -z", "kmem -F"} {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 256 || strings.ContainsAny(line, "|>!") {
			return
		}
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if jsonTextCommands[name] || name == "rd" {
			// set/help/alias steer the session; rd -r writes a file.
			return
		}
		defer s.SetContext(0)
		if err := s.SetJSONOutput(true); err != nil {
			t.Fatal(err)
		}
		defer s.SetJSONOutput(false)
		var b bytes.Buffer
		Run(s, line, &b)
		if b.Len() == 0 {
			return // an empty line, a comment
		}
		if bytes.Count(b.Bytes(), []byte("\n")) != 1 {
			t.Fatalf("%q: not one JSON line:\n%s", line, b.String())
		}
		var doc JSONDoc
		if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatalf("%q: %v:\n%s", line, err, b.String())
		}
		if strings.Contains(doc.Error, "internal error") {
			t.Fatalf("%q: %s", line, doc.Error)
		}
	})
}

func checkConvJSON(t *testing.T, s *Session, line string) {
	var cs []ConvJSON
	jsonRun(t, s, line, &cs)
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%x: %x\n", uint64(c.Input), uint64(c.Output))
	}
	if got := runCmd(t, s, line); got != b.String() || len(cs) == 0 {
		t.Errorf("%s text:\n%s\nfrom the JSON:\n%s", line, got, b.String())
	}
}
