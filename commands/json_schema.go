package commands

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// The JSON schema: each command's result type, described from its Go
// type (field names from the json tags, meanings from the desc tags), so
// that the documentation (docs/json.md) and the validation of every
// document (TestJSONMatchesText) come from the one declaration.

// JSONResultTypes are the result types of the commands with a JSON form,
// by command name, or by name and option where options give different
// results (kmem -i, kmem -s).
var JSONResultTypes = map[string]reflect.Type{
	"sys":         reflect.TypeOf(&SysJSON{}),
	"ps":          reflect.TypeOf([]PsRow{}),
	"bt":          reflect.TypeOf([]BtTaskJSON{}),
	"log":         reflect.TypeOf(&LogJSON{}),
	"mod":         reflect.TypeOf([]ModuleJSON{}),
	"kmem -i":     reflect.TypeOf(&KmemInfoJSON{}),
	"kmem -s":     reflect.TypeOf([]KmemCacheJSON{}),
	"kmem -V":     reflect.TypeOf(&KmemVMStatJSON{}),
	"kmem -f":     reflect.TypeOf(&KmemFreeJSON{}),
	"kmem -z":     reflect.TypeOf([]KmemZoneJSON{}),
	"runq":        reflect.TypeOf([]RunqCPUJSON{}),
	"files":       reflect.TypeOf([]FilesTaskJSON{}),
	"vm":          reflect.TypeOf([]VmTaskJSON{}),
	"explain":     reflect.TypeOf(&Explanation{}),
	"swap":        reflect.TypeOf([]SwapAreaJSON{}),
	"mount":       reflect.TypeOf([]MountJSON{}),
	"dev":         reflect.TypeOf(&DevJSON{}),
	"net":         reflect.TypeOf([]NetDeviceJSON{}),
	"timer":       reflect.TypeOf(&TimerJSON{}),
	"irq":         reflect.TypeOf([]IRQJSON{}),
	"free":        reflect.TypeOf(&FreeJSON{}),
	"uptime":      reflect.TypeOf(&UptimeJSON{}),
	"sym":         reflect.TypeOf([]SymJSON{}),
	"btop":        reflect.TypeOf([]ConvJSON{}),
	"ptob":        reflect.TypeOf([]ConvJSON{}),
	"vtop":        reflect.TypeOf([]VtopJSON{}),
	"waitq":       reflect.TypeOf(&WaitqJSON{}),
	"list":        reflect.TypeOf([]Addr{}),
	"tree":        reflect.TypeOf([]Addr{}),
	"dis":         reflect.TypeOf([]DisInstJSON{}),
	"sig":         reflect.TypeOf([]SigTaskJSON{}),
	"foreach sig": reflect.TypeOf([]SigTaskJSON{}),
	// foreach's result is its command's per-task values.
	"foreach bt":    reflect.TypeOf([]BtTaskJSON{}),
	"foreach ps":    reflect.TypeOf([]PsRow{}),
	"foreach files": reflect.TypeOf([]FilesTaskJSON{}),
	"foreach vm":    reflect.TypeOf([]VmTaskJSON{}),
}

// JSONArguments says what each JSON form takes, by JSONResultTypes' key
// (TestJSONSchema: one for each); any other option answers with an error
// document.
var JSONArguments = map[string]string{
	"sys":           "no arguments",
	"ps":            "ps's task selections (pid, task, command, -k, -u, -G, ...) in the default format; options that print other columns have none",
	"bt":            "the default format, -a, -c cpu(s), -s, -x, -d and pid/task arguments",
	"log":           "no arguments",
	"mod":           "no arguments",
	"kmem -i":       "-i",
	"kmem -s":       "-s",
	"kmem -V":       "-V",
	"kmem -f":       "-f (without an address; -F has none)",
	"kmem -z":       "-z",
	"runq":          "the default format and -c cpu(s)",
	"files":         "pid/task arguments (none: the current context)",
	"vm":            "pid/task arguments (none: the current context)",
	"explain":       "no arguments",
	"swap":          "no arguments",
	"mount":         "the default format and -n pid|task",
	"dev":           "no arguments (both tables)",
	"net":           "no arguments (the devices of PID 0's namespace)",
	"timer":         "the default format and -C cpu(s)",
	"irq":           "the default table, -u and IRQ numbers",
	"free":          "no arguments (bytes)",
	"uptime":        "no arguments",
	"sym":           "symbols and addresses, with -p and -n, and -q string (-l, -M and -m have none)",
	"dis":           "a function, an address or expression and a count, -r, -f, -l, -u, -x and -d; -s and -b have none",
	"list":          "every list option but -s and -S (the entries' addresses, an array of hex)",
	"tree":          "every tree option but -s, -S and -p (the entries' addresses, an array of hex)",
	"waitq":         "a symbol, struct.member and address, or an address",
	"vtop":          "addresses, -u, -k and -c pid|task (one element an address)",
	"btop":          "addresses (one element each)",
	"ptob":          "page frame numbers (one element each)",
	"sig":           "pid/task arguments (none: the current context); -g, -s, -l and -R have none",
	"foreach sig":   "any task selection, no options (one sig element per task)",
	"foreach bt":    "any task selection; bt's default format, -s, -x, -d, -o (one bt element per task)",
	"foreach ps":    "any task selection; ps's default format and -G",
	"foreach files": "any task selection, no options (one files element per task)",
	"foreach vm":    "any task selection, no options (one vm element per task)",
}

// A SchemaNode describes one JSON value.
type SchemaNode struct {
	Type     string // object, array, map, string, hex, integer, number, boolean
	Nullable bool   // a Go pointer: null allowed
	Fields   []SchemaField
	Elem     *SchemaNode // array elements, map values
}

// A SchemaField is one member of an object.
type SchemaField struct {
	Name     string
	Desc     string
	Optional bool // omitempty: may be absent
	Node     *SchemaNode
}

var addrType = reflect.TypeOf(Addr(0))

// SchemaOf describes t.
func SchemaOf(t reflect.Type) *SchemaNode {
	return schemaOf(t, map[reflect.Type]bool{})
}

func schemaOf(t reflect.Type, seen map[reflect.Type]bool) *SchemaNode {
	nullable := false
	for t.Kind() == reflect.Pointer {
		t, nullable = t.Elem(), true
	}
	n := &SchemaNode{Nullable: nullable}
	switch {
	case t == addrType:
		n.Type = "hex"
		return n
	}
	switch t.Kind() {
	case reflect.Struct:
		n.Type = "object"
		if seen[t] {
			return n
		}
		seen[t] = true
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			n.Fields = append(n.Fields, SchemaField{Name: name, Desc: f.Tag.Get("desc"),
				Optional: strings.Contains(opts, "omitempty"), Node: schemaOf(f.Type, seen)})
		}
		delete(seen, t)
	case reflect.Slice, reflect.Array:
		n.Type = "array"
		n.Elem = schemaOf(t.Elem(), seen)
		n.Nullable = n.Nullable || t.Kind() == reflect.Slice
	case reflect.Map:
		n.Type = "map"
		n.Elem = schemaOf(t.Elem(), seen)
		n.Nullable = true
	case reflect.String:
		n.Type = "string"
	case reflect.Bool:
		n.Type = "boolean"
	case reflect.Float32, reflect.Float64:
		n.Type = "number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n.Type = "integer"
	case reflect.Interface:
		n.Type = "any"
	default:
		n.Type = t.Kind().String()
	}
	return n
}

// Validate checks a decoded JSON value (json.Unmarshal into any) against
// the schema: every required member present, no member the schema does
// not name, every value of its type.
func (n *SchemaNode) Validate(v any) error { return n.validate("result", v) }

func (n *SchemaNode) validate(path string, v any) error {
	if v == nil {
		if n.Nullable || n.Type == "any" {
			return nil
		}
		return fmt.Errorf("%s: null, want %s", path, n.Type)
	}
	switch n.Type {
	case "any":
		return nil
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %T, want an object", path, v)
		}
		known := map[string]bool{}
		for _, f := range n.Fields {
			known[f.Name] = true
			fv, ok := m[f.Name]
			if !ok {
				if f.Optional {
					continue
				}
				return fmt.Errorf("%s.%s: missing", path, f.Name)
			}
			if err := f.Node.validate(path+"."+f.Name, fv); err != nil {
				return err
			}
		}
		for k := range m {
			if !known[k] {
				return fmt.Errorf("%s.%s: not in the schema", path, k)
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: %T, want an array", path, v)
		}
		for i, e := range a {
			if err := n.Elem.validate(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
	case "map":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %T, want an object", path, v)
		}
		for k, e := range m {
			if err := n.Elem.validate(path+"."+k, e); err != nil {
				return err
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: %T, want a string", path, v)
		}
	case "hex":
		s, ok := v.(string)
		if !ok || s == "" || strings.Trim(s, "0123456789abcdef") != "" {
			return fmt.Errorf("%s: %v, want a hex string", path, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: %T, want a boolean", path, v)
		}
	case "integer", "number":
		f, ok := v.(float64)
		if !ok {
			return fmt.Errorf("%s: %T, want a number", path, v)
		}
		if n.Type == "integer" && f != float64(int64(f)) && f < 1<<63 {
			return fmt.Errorf("%s: %v, want an integer", path, v)
		}
	default:
		return fmt.Errorf("%s: schema type %s", path, n.Type)
	}
	return nil
}

// JSONReference is docs/json.md: the document format and every
// command's result, one table row a member.
func JSONReference() string {
	var b strings.Builder
	b.WriteString(`# gocrash JSON output

Generated from the result types of the commands (the *JSON types beside each
command in commands/, commands/json*.go, commands/explain_data.go) by
(` + "`go test ./commands -run TestJSONSchema -update`" + `); a test fails when it is stale.

With ` + "`gocrash --json`" + ` (or ` + "`set output json`" + ` in the shell) each command that has a
JSON form prints one document on one line:

    {"command": "ps", "result": [...]}

and a command that fails, or has no JSON form, prints

    {"command": "kmem -f", "error": "kmem: -f has no JSON output (the JSON form of kmem takes -V or -f or -i or -s or -z)"}

Types: ` + "`hex`" + ` is an address or register as a string of hex digits without 0x
("ffffffffc00c6000": JSON numbers lose 64-bit precision in most readers);
a member marked optional may be absent; ` + "`[]`" + ` is an array, ` + "`{}`" + ` an object
keyed by name. Each section says what the command's JSON form takes (mostly
its default format, and the task, cpu or namespace selections); other options
answer with an error document.

`)
	names := make([]string, 0, len(JSONResultTypes))
	for n := range JSONResultTypes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		n := SchemaOf(JSONResultTypes[name])
		fmt.Fprintf(&b, "## %s\n\n", name)
		cmd, _, _ := strings.Cut(name, " ")
		if c, ok := Lookup(cmd); ok {
			fmt.Fprintf(&b, "%s (`%s`). Result: %s.\n\n", c.Summary, c.UsageLine(), typeName(n))
		}
		if takes, ok := JSONArguments[name]; ok {
			fmt.Fprintf(&b, "The JSON form takes: %s.\n\n", takes)
		}
		b.WriteString("| member | type | meaning |\n| --- | --- | --- |\n")
		writeSchemaRows(&b, "result", n, map[*SchemaNode]bool{})
		b.WriteString("\n")
	}
	b.WriteString("## gocrash triage --json\n\n" +
		"JSON Lines: one object a dump, in the order the dumps were given, then one\n" +
		"`{\"summary\": ...}` object.\n\n| member | type | meaning |\n| --- | --- | --- |\n")
	writeSchemaRows(&b, "(line)", SchemaOf(reflect.TypeOf(TriageResult{})), map[*SchemaNode]bool{})
	writeSchemaRows(&b, "summary", SchemaOf(reflect.TypeOf(TriageSummary{})), map[*SchemaNode]bool{})
	b.WriteString("\n## Commands without a JSON form\n\n" +
		"In JSON mode these answer with an error document, except the ones that steer\n" +
		"the session, which print their text.\n\n| command | why |\n| --- | --- |\n")
	none := make([]string, 0, len(JSONNone))
	for n := range JSONNone {
		none = append(none, n)
	}
	sort.Strings(none)
	for _, n := range none {
		fmt.Fprintf(&b, "| %s | %s |\n", n, JSONNone[n])
	}
	return b.String()
}

// JSONNone says why each command without a JSON form has none
// (TestJSONSchema: every such command is listed, and only those).
var JSONNone = map[string]string{
	"alias":    "steers the session (prints its text in JSON mode too)",
	"exit":     "steers the session",
	"help":     "steers the session (prints its text in JSON mode too)",
	"q":        "steers the session",
	"repeat":   "steers the session (prints its text in JSON mode too)",
	"set":      "steers the session (prints its text in JSON mode too, so that set output text works)",
	"ascii":    "a character table or a number's characters, nothing read from the dump: meaningless as data",
	"ptov":     "an address translation (physical or per-cpu to virtual); not done yet",
	"eval":     "an expression's value in several radixes; not done yet",
	"p":        "gdb's rendering of a C value: a JSON value tree needs a typed-value walker beside gdbfmt's printer (not one to parse its text); not done yet",
	"struct":   "as p: a value tree of the structure's members is not done yet",
	"union":    "as p: not done yet",
	"task":     "the task_struct printed as struct task_struct (a value tree, as p); its header is ps's and foreach ps's JSON",
	"whatis":   "a C declaration: text is its natural form (gdb's type syntax)",
	"ptype":    "a C declaration, as whatis",
	"rd":       "memory words in the format asked; not done yet",
	"search":   "the matches are formatted by the page readers in parallel; a typed hit list is not done yet",
	"pte":      "a page table entry's value decoded (its physical address and flags, or its swap device and offset); not done yet",
	"mach":     "the machine's summary, cpuinfo_x86 structures (a value tree, as p) and e820 map; not done yet",
	"ipcs":     "the System V IPC objects; not done yet",
	"fuser":    "the users of a file, found as crash finds them by scanning files' and vm's text; not done yet",
	"wr":       "refused: gocrash never writes to the dump",
	"extend":   "refused: crash's C extension libraries cannot load into gocrash",
	"gdb":      "refused: gocrash has no gdb",
	"bpf":      "the loaded eBPF programs and maps; not done yet",
	"sbitmapq": "an sbitmap_queue's counters, per-cpu allocation hints, wait queues and bitmap words (a value tree, as struct); not done yet",
}

func typeName(n *SchemaNode) string {
	s := n.Type
	switch n.Type {
	case "array":
		s = typeName(n.Elem) + "[]"
	case "map":
		s = "{" + typeName(n.Elem) + "}"
	}
	if n.Nullable && n.Type != "array" && n.Type != "map" {
		s += " or null"
	}
	return s
}

func writeSchemaRows(b *strings.Builder, path string, n *SchemaNode, seen map[*SchemaNode]bool) {
	for n.Type == "array" || n.Type == "map" {
		if n.Type == "array" {
			path += "[]"
		} else {
			path += "{}"
		}
		n = n.Elem
	}
	for _, f := range n.Fields {
		opt := ""
		if f.Optional {
			opt = ", optional"
		}
		fmt.Fprintf(b, "| `%s.%s` | %s%s | %s |\n", path, f.Name, typeName(f.Node), opt, strings.ReplaceAll(f.Desc, "|", "\\|"))
		writeSchemaRows(b, path+"."+f.Name, f.Node, seen)
	}
}
