# drgn's side of the benchmark (bench/run.sh): the closest equivalents of
# gocrash's and crash's commands, written with drgn's own helpers.
#
#   drgn -q -c VMCORE -s VMLINUX bench/drgn_cmds.py sys      # first answer
#   drgn -q -c VMCORE -s VMLINUX bench/drgn_cmds.py batch    # sys; bt -a; log; ps; runq; kmem -i; set
#   drgn -q -c VMCORE -s VMLINUX bench/drgn_cmds.py ps       # ps alone
#
# sys    utsname, online CPUs, xtime, jiffies, load average, task count,
#        memory size, the panic line from the printk ring buffer
# bt -a  prog.stack_trace() of each online CPU's current task (rq->curr)
# log    drgn.helpers.linux.printk.get_dmesg()
# ps     for_each_task(): pid, ppid, cpu, task, state, rss, comm
# runq   each CPU's rq->curr, RT priority queues and CFS rbtree (in order)
# kmem -i  totalram, vm_zone_stat / vm_node_stat counters, swap, committed
# set    the crashed thread's task: pid, comm, task address, cpu, state
import sys

from drgn import Object, cast, container_of
from drgn.helpers.linux.cpumask import for_each_online_cpu
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.percpu import per_cpu, percpu_counter_sum
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.printk import get_dmesg, get_printk_records
from drgn.helpers.linux.rbtree import rbtree_inorder_for_each_entry
from drgn.helpers.linux.sched import task_cpu, task_state_to_char

PAGE = 4096


def do_sys():
    uts = prog["init_uts_ns"].name
    cpus = list(for_each_online_cpu(prog))
    tk = prog["tk_core"].timekeeper
    ntasks = sum(1 for _ in for_each_task(prog))
    avenrun = [int(x) / 2048.0 for x in prog["avenrun"]]
    pages = prog["_totalram_pages"].counter.value_()
    panic = ""
    for r in get_printk_records(prog):
        t = r.text.decode(errors='replace')
        if t.startswith("Kernel panic") or "Oops" in t:
            panic = t
            break
    print(f"        CPUS: {len(cpus)}")
    print(f"        DATE: {tk.xtime_sec.value_()}")
    print(f"      UPTIME: {prog['jiffies_64'].value_()} jiffies")
    print(f"LOAD AVERAGE: {avenrun[0]:.2f}, {avenrun[1]:.2f}, {avenrun[2]:.2f}")
    print(f"       TASKS: {ntasks}")
    print(f"    NODENAME: {uts.nodename.string_().decode(errors='replace')}")
    print(f"     RELEASE: {uts.release.string_().decode(errors='replace')}")
    print(f"     VERSION: {uts.version.string_().decode(errors='replace')}")
    print(f"     MACHINE: {uts.machine.string_().decode(errors='replace')}")
    print(f"      MEMORY: {pages * PAGE / 2**20:.1f} MB (totalram)")
    print(f'       PANIC: "{panic}"')


def cpu_currs():
    return [(c, per_cpu(prog["runqueues"], c).curr) for c in for_each_online_cpu(prog)]


def do_bt():
    for cpu, task in cpu_currs():
        print(f"PID: {task.pid.value_()}  TASK: {task.value_():x}  CPU: {cpu}  COMMAND: \"{task.comm.string_().decode(errors='replace')}\"")
        try:
            print(prog.stack_trace(task))
        except Exception as e:  # an idle or user task without a kernel stack
            print(f"  (no stack: {e})")
        print()


def do_log():
    sys.stdout.write(get_dmesg(prog).decode(errors='replace'))


def rss_pages(task):
    mm = task.mm
    if not mm:
        return 0
    try:
        # Before 6.2: struct mm_rss_stat { atomic_long_t count[NR_MM_COUNTERS]; }
        return sum(int(x.counter) for x in mm.rss_stat.count)
    except AttributeError:
        # 6.2+: struct percpu_counter rss_stat[NR_MM_COUNTERS] (the shared
        # count, as crash's get_task_mem_usage reads it without per-cpu sums)
        return sum(int(x.count) for x in mm.rss_stat)


def do_ps():
    print("   PID    PPID  CPU       TASK        ST  RSS  COMM")
    for t in for_each_task(prog):
        print(f"{t.pid.value_():>7} {t.real_parent.pid.value_():>7} {task_cpu(t):>3}  {t.value_():x}  {task_state_to_char(t)}  "
              f"{rss_pages(t) * PAGE // 1024:>6}  {t.comm.string_().decode(errors='replace')}")


def do_runq():
    for cpu, curr in cpu_currs():
        rq = per_cpu(prog["runqueues"], cpu)
        print(f"CPU {cpu} RUNQUEUE: {rq.address_of_().value_():x}")
        print(f"  CURRENT: PID: {curr.pid.value_()}  TASK: {curr.value_():x}  COMMAND: \"{curr.comm.string_().decode(errors='replace')}\"")
        print("  RT PRIO_ARRAY:")
        for prio, q in enumerate(rq.rt.active.queue):
            for se in list_for_each_entry("struct sched_rt_entity", q.address_of_(), "run_list"):
                t = container_of(se, "struct task_struct", "rt")
                print(f"     [{prio}] PID: {t.pid.value_()}  TASK: {t.value_():x}  COMMAND: \"{t.comm.string_().decode(errors='replace')}\"")
        print("  CFS RB_ROOT:")
        for se in rbtree_inorder_for_each_entry("struct sched_entity", rq.cfs.tasks_timeline.rb_root.address_of_(), "run_node"):
            t = container_of(se, "struct task_struct", "se")
            print(f"     [{t.prio.value_()}] PID: {t.pid.value_()}  TASK: {t.value_():x}  COMMAND: \"{t.comm.string_().decode(errors='replace')}\"")


def do_kmem_i():
    total = prog["_totalram_pages"].counter.value_()
    zone = prog["vm_zone_stat"]
    node = prog["vm_node_stat"]
    free = zone[prog["NR_FREE_PAGES"]].counter.value_()
    cached = node[prog["NR_FILE_PAGES"]].counter.value_()
    slab = node[prog["NR_SLAB_RECLAIMABLE_B"]].counter.value_() + node[prog["NR_SLAB_UNRECLAIMABLE_B"]].counter.value_()
    swap_total = prog["total_swap_pages"].value_()
    swap_free = prog["nr_swap_pages"].counter.value_()
    committed = percpu_counter_sum(prog["vm_committed_as"])
    for name, v in (("TOTAL MEM", total), ("FREE", free), ("USED", total - free), ("CACHED", cached), ("SLAB", slab),
                    ("TOTAL SWAP", swap_total), ("SWAP USED", swap_total - swap_free), ("SWAP FREE", swap_free),
                    ("COMMITTED", committed)):
        print(f"{name:>13} {v:>8} {v * PAGE / 2**20:>10.1f} MB")


def do_set():
    t = prog.crashed_thread().object
    print(f"    PID: {t.pid.value_()}")
    print(f"COMMAND: \"{t.comm.string_().decode(errors='replace')}\"")
    print(f"   TASK: {t.value_():x}")
    print(f"    CPU: {task_cpu(t)}")
    print(f"  STATE: {task_state_to_char(t)}")


mode = sys.argv[1] if len(sys.argv) > 1 else "sys"
if mode == "ps":
    do_ps()
else:
    do_sys()
if mode == "batch":
    for f in (do_bt, do_log, do_ps, do_runq, do_kmem_i, do_set):
        f()
