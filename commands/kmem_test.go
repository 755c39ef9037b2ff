package commands

import (
	"context"
	"testing"

	"gocrash/internal/testbed"
)

func TestKmemInfoGoldens(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			want, ok := d.Golden("kmem -i")
			if !ok || want == "" {
				t.Fatalf("crash's kmem -i was not recorded")
			}
			s := openTestbed(t, d)
			defer s.Close()
			if got := runCmd(t, s, "kmem -i"); got != want {
				t.Errorf("kmem -i differs from crash:\n%s", lineDiff(want, got))
			}
		})
	}
}

func TestPagesToSize(t *testing.T) {
	// Expected strings are crash's for the same page counts (kmem -i on
	// the 6.1 test bed dumps).
	for _, c := range []struct {
		pages uint64
		want  string
	}{
		{0, "0"}, {2, "8 KB"}, {769, "3 MB"}, {1410, "5.5 MB"}, {54535, "213 MB"},
		{60381, "235.9 MB"}, {16383, "64 MB"}, {1562, "6.1 MB"}, {46573, "181.9 MB"},
	} {
		if got := pagesToSize(c.pages, 4096); got != c.want {
			t.Errorf("pagesToSize(%d) = %q, want %q", c.pages, got, c.want)
		}
	}
}

func BenchmarkKmemInfo(b *testing.B) {
	d := testbed.Open(b, testbed.DefaultName, testbed.DefaultFormat)
	s := openTestbed(b, d)
	defer s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.MemInfo(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
