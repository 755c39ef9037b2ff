package commands

import (
	"bufio"
	"fmt"
	"io"
)

// sys config and sys -i: crash's read_in_kernel_config(IKCFG_READ) and
// dump_dmi_info().

// writeConfig prints the embedded .config line by line as crash's
// sscanf("%511[^\\n]\\n") loop does: the white space after each line is
// consumed, so blank lines and leading blanks vanish, and a line longer
// than 511 bytes is printed in pieces.
func writeConfig(s *Session, w io.Writer) error {
	cfg, err := s.Config()
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	i := 0
	for i < len(cfg) {
		j := i
		for j < len(cfg) && cfg[j] != '\n' && j-i < 511 {
			j++
		}
		if j == i {
			break
		}
		bw.Write(cfg[i:j])
		bw.WriteByte('\n')
		i = j
		for i < len(cfg) && isCSpace(cfg[i]) {
			i++
		}
	}
	return nil
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func writeDMI(s *Session, w io.Writer) error {
	fields, err := s.DMI()
	if err != nil {
		return err
	}
	width := 0
	for _, n := range s.DMIFieldNames() {
		width = max(width, len(n))
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	for _, f := range fields {
		if f.Name == "" {
			fmt.Fprintf(bw, "  dmi_ident[%d]: %s\n", f.Index, f.Value)
			continue
		}
		fmt.Fprintf(bw, "  %*s: %s\n", width, f.Name, f.Value)
	}
	return nil
}
