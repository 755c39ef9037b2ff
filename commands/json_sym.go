package commands

import (
	"errors"
	"strings"
)

// SymJSON is one symbol line of sym: "ADDRESS (K) NAME[+OFFSET] [MODULE]
// SOURCE".
type SymJSON struct {
	Address Addr   `json:"address" desc:"the symbol's address plus the offset (the line's first column)"`
	Type    string `json:"type" desc:"nm's letter in parentheses (T, t, D, d, B, b, R, r, W, w, A, ...)"`
	Name    string `json:"name" desc:"the symbol (a module's start marker is _MODULE_START_NAME, shown as (NAME module))"`
	Offset  uint64 `json:"offset,omitempty" desc:"the offset from the symbol (+N, decimal in the text)"`
	Module  string `json:"module,omitempty" desc:"the module the symbol is in, [MODULE]"`
	Text    bool   `json:"text" desc:"the address is kernel or module text, whose source line sym shows (not looked at under -q: false)"`
	Source  string `json:"source,omitempty" desc:"'file: line' of a kernel text address, where DWARF has it"`
}

// showJSON records what show prints.
func (t *symTable) showJSON(r symRef, name string, addr uint64, kind byte, off uint64, withLine bool) {
	if t.js == nil {
		return
	}
	j := SymJSON{Address: Addr(addr + off), Type: string(kind), Name: name, Offset: off}
	if r.mod >= 0 {
		j.Module = t.mods[r.mod].Name
	}
	if withLine && t.isText(addr+off) {
		j.Text, j.Source = true, t.line(addr+off)
	}
	*t.js = append(*t.js, j)
}

// symJSON is sym's JSON: symbols and addresses (with -p, -n) and -q; the
// table dumps (-l, -M, -m) have none. A symbol not found or an invalid
// address is the error.
func symJSON(s *Session, args []string) (any, error) {
	g := parseFlagsPermuted("sym", args)
	for g.next() {
		if strings.Contains("lMm", g.flag) {
			return nil, jsonOptionsErr("sym", args)
		}
	}
	var out strings.Builder
	js := []SymJSON{}
	if err := symRun(s, args, &out, &js); err != nil {
		return nil, err
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "symbol not found: ") || strings.HasPrefix(l, "sym: invalid address: ") {
			return nil, errors.New(strings.TrimPrefix(l, "sym: "))
		}
	}
	return js, nil
}
