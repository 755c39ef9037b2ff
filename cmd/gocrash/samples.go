package main

import (
	"fmt"
	"io"
	"strings"

	"gocrash/internal/sample"
)

// sampleScenarios say what each bundled dump's scenario shows a learner
// (testdata/mkdump/init and mkdump.sh make them; README's test-bed table).
var sampleScenarios = map[string]string{
	"sysrq":      "echo c > /proc/sysrq-trigger from init on CPU 0: the plainest panic",
	"oops":       "insmod of a module whose init writes through a NULL pointer: an Oops, then panic_on_oops",
	"cpu1":       "the sysrq panic from CPU 1, so the panic task is not on CPU 0",
	"qemu":       "the sysrq panic saved by QEMU's dump-guest-memory, without a capture kernel",
	"softlockup": "a module's init spinning on CPU 1 with preemption off: the soft-lockup watchdog panics",
	"hung":       "a writer stuck in D state on a frozen filesystem: the hung-task detector panics",
	"oom":        "a process growing until the OOM killer panics the machine (panic_on_oom)",
}

// sampleFormat picks the format a sample opens in: ELF where it is
// bundled, else the first one there is.
func sampleFormats() (map[string][]string, []string, error) {
	list, err := sample.List()
	if err != nil {
		return nil, nil, err
	}
	formats := map[string][]string{}
	var names []string
	for _, e := range list {
		if _, ok := formats[e.Name]; !ok {
			names = append(names, e.Name)
		}
		formats[e.Name] = append(formats[e.Name], e.Format)
	}
	return formats, names, nil
}

func locateSample(name string) (vmlinux, vmcore string, err error) {
	formats, _, err := sampleFormats()
	if err != nil {
		return "", "", err
	}
	fs, ok := formats[name]
	if !ok {
		return "", "", fmt.Errorf("no bundled dump named %q", name)
	}
	f := fs[0]
	for _, x := range fs {
		if x == "elf" {
			f = x
		}
	}
	d, err := sample.Locate(name, f)
	return d.Vmlinux, d.Vmcore, err
}

// writeSamples is --sample list: each bundled dump, its formats and what
// it shows.
func writeSamples(w io.Writer) {
	formats, names, err := sampleFormats()
	if err != nil {
		fmt.Fprintf(w, "gocrash: no bundled dumps: %v\n", err)
		return
	}
	fmt.Fprintf(w, "Bundled dumps (gocrash --sample NAME; with no files gocrash opens %s):\n\n", sample.DefaultName)
	for _, n := range names {
		_, scenario, _ := strings.Cut(n, "-")
		what := sampleScenarios[scenario]
		if what == "" {
			what = "scenario " + scenario
		}
		fmt.Fprintf(w, "  %-12s %s\n  %-12s (kernel %s; formats: %s)\n", n, what, "", strings.SplitN(n, "-", 2)[0], strings.Join(formats[n], ", "))
	}
	fmt.Fprintf(w, "\nA first look at the Oops: gocrash --sample 6.1-oops, then sys, log | tail -40, bt, ps | grep '>'.\n")
}
