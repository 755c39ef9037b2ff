package commands

import (
	"fmt"
	"io"
	"strings"
)

// ascii: crash's tools.c cmd_ascii.

func init() {
	register(Command{
		Name:     "ascii",
		Summary:  "translate a hexadecimal string to ASCII",
		Synopsis: "value ...",
		Description: `  Translates 32-bit or 64-bit hexadecimal values to ASCII, least significant
  byte first (the order of a little-endian word in memory); a byte that is
  not printable shows as its control name (<NUL>, <LF>) or as <hex>.  With
  no argument, an ASCII chart is shown.`,
		Operands: []Operand{{"value", "a hexadecimal value, with or without 0x."}},
		Examples: `  Translate a word read from memory:

    crash> ascii 62696c2f7273752f
    62696c2f7273752f: /usr/lib`,
		Run: runASCII,
	})
}

var asciiControl = [...]string{"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI",
	"DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US"}

const asciiChart = `
      0    1   2   3   4   5   6   7
    +-------------------------------
  0 | NUL DLE  SP  0   @   P   '   p
  1 | SOH DC1  !   1   A   Q   a   q
  2 | STX DC2  "   2   B   R   b   r
  3 | ETX DC3  #   3   C   S   c   s
  4 | EOT DC4  $   4   D   T   d   t
  5 | ENQ NAK  %   5   E   U   e   u
  6 | ACK SYN  &   6   F   V   f   v
  7 | BEL ETB  ` + "`" + `   7   G   W   g   w
  8 |  BS CAN  (   8   H   X   h   x
  9 |  HT  EM  )   9   I   Y   i   y
  A |  LF SUB  *   :   J   Z   j   z
  B |  VT ESC  +   ;   K   [   k   {
  C |  FF  FS  ,   <   L   \   l   |
  D |  CR  GS  _   =   M   ]   m   }
  E |  SO  RS  .   >   N   ^   n   ~
  F |  SI  US  /   ?   O   -   o  DEL

`

func runASCII(s *Session, args []string, w io.Writer) error {
	if len(args) == 0 {
		io.WriteString(w, asciiChart)
		return nil
	}
	var b strings.Builder
	defer func() { io.WriteString(w, b.String()) }()
	for _, a := range args {
		h := strings.TrimPrefix(strings.TrimPrefix(a, "0x"), "0X")
		v, err := parseHex(h)
		if err != nil || !isHexWord(h) {
			return fmt.Errorf("invalid input: \"%s\"", h)
		}
		fmt.Fprintf(&b, "%016x: ", v)
		for i := 0; i < 8; i++ {
			c := byte(v >> (8 * i))
			switch {
			case c >= 0x20 && c < 0x7f:
				b.WriteByte(c)
			case c > 0x7f:
				fmt.Fprintf(&b, "<%02x>", c)
			case c == 0x7f:
				b.WriteString("<DEL>")
			default:
				b.WriteString("<" + asciiControl[c] + ">")
			}
		}
		b.WriteByte('\n')
	}
	return nil
}
