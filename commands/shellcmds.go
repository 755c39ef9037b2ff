package commands

import (
	"errors"
	"io"
)

// alias and repeat work on the shell's own state (its aliases, its
// prompt and Ctrl-C), so the shell (package repl) runs them; their
// entries here give them a help page and a place in the command list.
// Run reaches them only when no shell is in between (the fuzz target).

// ErrShellCommand is returned by Run for a command only the shell runs.
var ErrShellCommand = errors.New("this command is run by the gocrash shell, not here")

func shellOnly(*Session, []string, io.Writer) error { return ErrShellCommand }

func init() {
	register(Command{
		Name:     "alias",
		Synopsis: "[alias] [command string]",
		Summary:  "command aliases",
		Description: `  With no argument, lists the aliases; with one, shows what that alias
  stands for; with more, makes the first word an alias for the rest.  When
  a line starts with an alias, the alias is replaced by its command string
  and the rest of the line follows it.  A command string holding '|' or
  '>' must be quoted, so that it goes into the alias rather than taking
  the "alias" command's output.  An empty string ("") deletes an alias.

  The built-in aliases are crash 8.0.6's (dmesg is log, so "dmesg -T" is
  "log -T"; quit is q; sf and sn turn the pager off and on).  Aliases
  may also be made in $HOME/.crashrc, $HOME/.gocrashrc, ./.crashrc and
  ./.gocrashrc, read in that order at start; as in crash, they are listed
  with the ORIGIN "runtime".`,
		Examples: `  List the aliases:

    crash> alias
    ORIGIN   ALIAS    COMMAND
    builtin  man      help
    builtin  ?        help
    builtin  quit     q
    ...
    builtin  dmesg    log
    builtin  lsmod    mod

  Make one, with a pipe in it, and use it:

    crash> alias oom "log | grep -i 'out of memory'"
    ORIGIN   ALIAS    COMMAND
    runtime  oom      log | grep -i 'out of memory'
    crash> oom

  Delete it:

    crash> alias oom ""
    alias deleted: oom`,
		Run: shellOnly,
	})
	register(Command{
		Name:     "repeat",
		Synopsis: "[-seconds] command",
		Summary:  "repeat a command",
		Description: `  Runs a command again and again, waiting the given number of seconds
  between runs, until Ctrl-C, the pager's q, or the command fails.  On a
  dump every run prints the same; it is meant for watching a live system.
  gocrash runs it only at the terminal prompt (crash would repeat forever
  in a batch run, where nothing can stop it).`,
		Examples: `  Show jiffies every second until Ctrl-C:

    crash> repeat -1 rd -d jiffies
    ffffffff8d8079c0:       4294901069
    ffffffff8d8079c0:       4294901069
    ^C`,
		Run: shellOnly,
	})
}
