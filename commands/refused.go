package commands

import (
	"errors"
	"io"
)

// crash's commands that a dump-only reader cannot carry out: wr writes
// memory (crash itself refuses it on a dump file), extend loads crash's C
// extension libraries into crash, gdb hands a line to the gdb linked into
// crash. Each has its help page and refuses in one line saying why.

func init() {
	register(Command{
		Name:     "wr",
		Summary:  "write memory",
		Synopsis: "[-u|-k|-p] [-8|-16|-32|-64] [address|symbol] value",
		Description: `  In crash this command modifies the contents of memory on a live system.
  gocrash reads dump files only and never writes to them: like crash on a
  dump file, it refuses every wr.`,
		Examples: `  On the sample dump, as crash answers there:

    crash> wr jiffies 0
    wr: not allowed on dumpfiles`,
		Run: func(*Session, []string, io.Writer) error { return errors.New("not allowed on dumpfiles") },
	})
	register(Command{
		Name:     "extend",
		Summary:  "extend the command set",
		Synopsis: "[shared-object ...] | [-u [shared-object ...]] | -s",
		Description: `  In crash this command loads or unloads extension libraries: C shared
  objects that add commands by calling into crash's own functions.  They
  cannot run inside gocrash, so none is ever loaded: with no argument,
  extend lists none (as crash does before one is loaded); with any argument
  it refuses.`,
		Examples: `  No extension is loaded:

    crash> extend`,
		Run: runExtend,
	})
	register(Command{
		Name:     "gdb",
		Summary:  "gdb command",
		Synopsis: "command ...",
		Description: `  In crash this command passes its arguments to the gdb linked into crash
  and prints gdb's answer.  gocrash has no gdb: it refuses, and its own
  commands answer as gdb would for what crash users most often ask gdb —
  p (print), ptype, whatis, dis, struct and sym.`,
		Examples: `  Ask the equivalent command instead:

    crash> ptype atomic_t
    type = struct {
        int counter;
    }`,
		Run: func(*Session, []string, io.Writer) error {
			return errors.New("gocrash has no gdb to pass the line to (p, ptype, whatis, dis, struct and sym answer as gdb would)")
		},
	})
}

func runExtend(s *Session, args []string, w io.Writer) error {
	if len(args) == 0 {
		return nil // the list of loaded extensions: none
	}
	return errors.New("gocrash cannot load crash extension libraries (C shared objects that call into crash itself)")
}
