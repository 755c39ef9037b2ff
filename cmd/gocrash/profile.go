package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
)

// profileFlags takes the hidden profiling flags out of args (they are for
// bench/ and are not in the usage text):
//
//	--cpuprofile FILE   CPU profile of the whole run (go tool pprof)
//	--memprofile FILE   heap profile at exit (allocations since start)
func profileFlags(args []string) (rest []string, cpu, mem string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || (name != "cpuprofile" && name != "memprofile") {
			rest = append(rest, a)
			continue
		}
		if !hasVal && i+1 < len(args) {
			i++
			val = args[i]
		}
		if name == "cpuprofile" {
			cpu = val
		} else {
			mem = val
		}
	}
	return rest, cpu, mem
}

// startProfiles starts what profileFlags asked for; the returned function
// stops and writes the profiles.
func startProfiles(cpu, mem string, stderr io.Writer) func() {
	var cpuFile *os.File
	if cpu != "" {
		f, err := os.Create(cpu)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "gocrash: cpu profile: %v\n", err)
		} else {
			cpuFile = f
		}
	}
	if mem != "" {
		runtime.MemProfileRate = 64 << 10
	}
	return func() {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			cpuFile.Close()
		}
		if mem != "" {
			f, err := os.Create(mem)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintf(stderr, "gocrash: memory profile: %v\n", err)
			}
		}
	}
}
