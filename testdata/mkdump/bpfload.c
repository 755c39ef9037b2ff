/*
 * gocrash test bed: two eBPF maps and a program that stay loaded until the
 * panic, so that crash's and gocrash's `bpf` listings (and -p/-m/-t/-j/-s)
 * have something to show. Built static on the host; runs as root in the
 * guest (unprivileged BPF is off on Debian's kernels).
 */
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int map_create(const char *name, int type, int key, int value, int max)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = key;
	a.value_size = value;
	a.max_entries = max;
	strncpy(a.map_name, name, sizeof(a.map_name) - 1);
	return bpf(BPF_MAP_CREATE, &a);
}

static void map_update(int fd, unsigned int key, unsigned long long value)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = fd;
	a.key = (unsigned long)&key;
	a.value = (unsigned long)&value;
	bpf(BPF_MAP_UPDATE_ELEM, &a);
}

#define INSN(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }

int main(void)
{
	char log[4096];
	int arr = map_create("gocrash_arr", BPF_MAP_TYPE_ARRAY, 4, 8, 16);
	int hash = map_create("gocrash_hash", BPF_MAP_TYPE_HASH, 4, 8, 64);
	if (arr < 0 || hash < 0) {
		perror("gocrash bpfload: BPF_MAP_CREATE");
		return 1;
	}
	map_update(arr, 3, 0x6b6b6b6bULL);
	map_update(hash, 7, 0xdeadbeefULL);
	map_update(hash, 9, 42);
	/* *(u32 *)(r10 - 4) = 0; r2 = r10 - 4; r1 = map arr; call
	 * bpf_map_lookup_elem; r0 = 0; exit: a socket filter that drops all. */
	struct bpf_insn prog[] = {
		INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, arr),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (unsigned long)prog;
	a.insn_cnt = sizeof(prog) / sizeof(prog[0]);
	a.license = (unsigned long)"GPL";
	a.log_buf = (unsigned long)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	strncpy(a.prog_name, "gocrash_filter", sizeof(a.prog_name) - 1);
	int fd = bpf(BPF_PROG_LOAD, &a);
	if (fd < 0) {
		perror("gocrash bpfload: BPF_PROG_LOAD");
		fputs(log, stderr);
		return 1;
	}
	for (;;)
		pause();
}
