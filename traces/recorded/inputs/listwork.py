# traces/recorded/inputs/listwork.py - a short Python workload for
# tools/record-all: a growing list, a dict, a sort and a bytearray that is
# freed again (large allocations are mmap'd and munmap'd by the allocator).
data = [i * 7 % 1000 for i in range(20000)]
index = {v: i for i, v in enumerate(data)}
data.sort()
buf = bytearray(1 << 20)
buf[::4096] = b"x" * (len(buf) // 4096)
del buf
print(len(data), len(index), data[-1])
