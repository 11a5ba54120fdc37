# A FUSE file system for the power-cut test (test/power-cut/power-cut.test.ts), after LazyFS: it
# keeps everything in memory and remembers, per file, the bytes as of its last fsync/fdatasync and,
# per directory, its entries as of its last fsync. Unmounting it is the power cut: only that synced
# state is written to STATE (the "disk"); every write, create, rename and unlink that was not
# followed by the matching fsync is lost. The next mount starts from STATE.
#
#   /usr/bin/python3 powercut_fs.py STATE MOUNTPOINT
#
# Needs Debian's fuse3 + python3-fusepy (libfuse2 through ctypes) and root (mount(2) directly).
# Mounted without direct_io: SQLite mmaps its -shm file, which FUSE serves through the page cache
# (dirty mmap pages reach write() before an fsync, so they follow the same rules as other writes).
# Prints "mounted" once the file system serves requests. At unmount it writes STATE and, next to it,
# STATE.json: what the power cut discarded (files whose live bytes differed from their synced bytes,
# directory entries that differed), so the test can check that the cut really dropped something.
import errno
import json
import os
import pickle
import stat
import sys
import time

import fusepy


class Node:
    __slots__ = ('ino', 'mode', 'mtime', 'ctime', 'atime', 'data', 'synced', 'entries', 'synced_entries')

    def __init__(self, ino, mode):
        now = time.time_ns()
        self.ino = ino
        self.mode = mode
        self.mtime = self.ctime = self.atime = now
        if stat.S_ISDIR(mode):
            self.entries = {}          # name -> Node (live)
            self.synced_entries = {}   # name -> Node (as of the last fsync of this directory)
            self.data = self.synced = None
        else:
            self.data = bytearray()    # live bytes
            self.synced = b''          # bytes as of the last fsync/fdatasync
            self.entries = self.synced_entries = None

    def is_dir(self):
        return self.entries is not None


class PowerCutFS(fusepy.Operations):
    use_ns = True

    def __init__(self, state_path):
        self.state_path = state_path
        self.next_ino = 2
        self.handles = {}   # fh -> Node
        self.next_fh = 1
        self.syncs = {'fsync': 0, 'fsyncdir': 0}
        if os.path.exists(state_path):
            with open(state_path, 'rb') as f:
                self.root, self.next_ino = self._thaw(pickle.load(f))
        else:
            self.root = Node(1, stat.S_IFDIR | 0o755)

    # ---- the disk image: only synced state ---------------------------------------------------
    def _freeze(self):
        """The synced state reachable from the root through synced directory entries."""
        nodes = {}
        todo = [self.root]
        while todo:
            n = todo.pop()
            if n.ino in nodes:
                continue
            if n.is_dir():
                nodes[n.ino] = {'mode': n.mode, 'mtime': n.mtime, 'entries': {k: c.ino for k, c in n.synced_entries.items()}}
                todo.extend(n.synced_entries.values())
            else:
                nodes[n.ino] = {'mode': n.mode, 'mtime': n.mtime, 'data': bytes(n.synced)}
        return {'root': self.root.ino, 'next_ino': self.next_ino, 'nodes': nodes}

    def _thaw(self, image):
        nodes = {}
        for ino, d in image['nodes'].items():
            n = Node(ino, d['mode'])
            n.mtime = n.ctime = n.atime = d['mtime']
            if not n.is_dir():
                n.synced = d['data']
                n.data = bytearray(d['data'])
            nodes[ino] = n
        for ino, d in image['nodes'].items():
            if 'entries' in d:
                nodes[ino].entries = {k: nodes[c] for k, c in d['entries'].items()}
                nodes[ino].synced_entries = dict(nodes[ino].entries)
        return nodes[image['root']], image['next_ino']

    def _lost(self):
        """What the power cut throws away (reported in STATE.json)."""
        files, entries, seen, todo = 0, 0, set(), [self.root]
        while todo:
            n = todo.pop()
            if n.ino in seen:
                continue
            seen.add(n.ino)
            if n.is_dir():
                live = {k: c.ino for k, c in n.entries.items()}
                synced = {k: c.ino for k, c in n.synced_entries.items()}
                entries += len(set(live.items()) ^ set(synced.items()))
                todo.extend(n.entries.values())
                todo.extend(n.synced_entries.values())
            elif bytes(n.data) != n.synced:
                files += 1
        return {'unsyncedFiles': files, 'unsyncedEntries': entries, **self.syncs}

    def destroy(self, path):
        lost = self._lost()
        tmp = self.state_path + '.tmp'
        with open(tmp, 'wb') as f:
            pickle.dump(self._freeze(), f)
        os.replace(tmp, self.state_path)
        with open(self.state_path + '.json', 'w') as f:
            json.dump(lost, f)

    def init(self, path):
        print('mounted', flush=True)

    # ---- lookups -------------------------------------------------------------------------------
    def _node(self, path):
        n = self.root
        for part in path.split('/'):
            if not part:
                continue
            if not n.is_dir():
                raise fusepy.FuseOSError(errno.ENOTDIR)
            n = n.entries.get(part)
            if n is None:
                raise fusepy.FuseOSError(errno.ENOENT)
        return n

    def _parent(self, path):
        head, name = os.path.split(path.rstrip('/'))
        p = self._node(head or '/')
        if not p.is_dir():
            raise fusepy.FuseOSError(errno.ENOTDIR)
        return p, name

    def _by(self, path, fh):
        if isinstance(fh, int) and fh in self.handles:
            return self.handles[fh]
        return self._node(path)

    def _new(self, mode):
        n = Node(self.next_ino, mode)
        self.next_ino += 1
        return n

    def _handle(self, n):
        fh = self.next_fh
        self.next_fh += 1
        self.handles[fh] = n
        return fh

    # ---- attributes ----------------------------------------------------------------------------
    def getattr(self, path, fh=None):
        n = self._by(path, fh)
        size = 4096 if n.is_dir() else len(n.data)
        links = 2 + sum(1 for c in n.entries.values() if c.is_dir()) if n.is_dir() else 1
        return {'st_ino': n.ino, 'st_mode': n.mode, 'st_nlink': links, 'st_size': size, 'st_uid': os.getuid(),
                'st_gid': os.getgid(), 'st_atime': n.atime, 'st_mtime': n.mtime, 'st_ctime': n.ctime,
                'st_blocks': (size + 511) // 512, 'st_blksize': 4096}

    def access(self, path, amode):
        self._node(path)
        return 0

    def chmod(self, path, mode):
        n = self._node(path)
        n.mode = (n.mode & ~0o7777) | (mode & 0o7777)
        return 0

    def chown(self, path, uid, gid):
        return 0

    def utimens(self, path, times=None):
        n = self._node(path)
        now = time.time_ns()
        n.atime, n.mtime = times if times else (now, now)
        return 0

    def statfs(self, path):
        return {'f_bsize': 4096, 'f_frsize': 4096, 'f_blocks': 1 << 22, 'f_bfree': 1 << 21, 'f_bavail': 1 << 21,
                'f_files': 1 << 20, 'f_ffree': 1 << 19, 'f_favail': 1 << 19, 'f_namemax': 255}

    # ---- directories ---------------------------------------------------------------------------
    def mkdir(self, path, mode):
        p, name = self._parent(path)
        if name in p.entries:
            raise fusepy.FuseOSError(errno.EEXIST)
        p.entries[name] = self._new(stat.S_IFDIR | (mode & 0o7777))
        p.mtime = time.time_ns()
        return 0

    def rmdir(self, path):
        p, name = self._parent(path)
        n = p.entries.get(name)
        if n is None:
            raise fusepy.FuseOSError(errno.ENOENT)
        if not n.is_dir():
            raise fusepy.FuseOSError(errno.ENOTDIR)
        if n.entries:
            raise fusepy.FuseOSError(errno.ENOTEMPTY)
        del p.entries[name]
        return 0

    def opendir(self, path):
        n = self._node(path)
        if not n.is_dir():
            raise fusepy.FuseOSError(errno.ENOTDIR)
        return self._handle(n)

    def readdir(self, path, fh):
        n = self._by(path, fh)
        return ['.', '..'] + list(n.entries.keys())

    def releasedir(self, path, fh):
        self.handles.pop(fh, None)
        return 0

    def fsyncdir(self, path, datasync, fh):
        n = self._by(path, fh)
        n.synced_entries = dict(n.entries)
        self.syncs['fsyncdir'] += 1
        return 0

    # ---- files ---------------------------------------------------------------------------------
    def create(self, path, mode, fi=None):
        p, name = self._parent(path)
        n = p.entries.get(name)
        if n is None:
            n = p.entries[name] = self._new(stat.S_IFREG | (mode & 0o7777))
            p.mtime = time.time_ns()
        return self._handle(n)

    def open(self, path, flags):
        n = self._node(path)
        if n.is_dir():
            raise fusepy.FuseOSError(errno.EISDIR)
        return self._handle(n)

    def read(self, path, size, offset, fh):
        n = self._by(path, fh)
        return bytes(n.data[offset:offset + size])

    def write(self, path, data, offset, fh):
        n = self._by(path, fh)
        end = offset + len(data)
        if len(n.data) < offset:
            n.data.extend(b'\0' * (offset - len(n.data)))
        n.data[offset:end] = data
        n.mtime = time.time_ns()
        return len(data)

    def truncate(self, path, length, fh=None):
        n = self._by(path, fh)
        if length < len(n.data):
            del n.data[length:]
        else:
            n.data.extend(b'\0' * (length - len(n.data)))
        n.mtime = time.time_ns()
        return 0

    def fsync(self, path, datasync, fh):
        n = self._by(path, fh)
        n.synced = bytes(n.data)
        self.syncs['fsync'] += 1
        return 0

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        self.handles.pop(fh, None)
        return 0

    def unlink(self, path):
        p, name = self._parent(path)
        if name not in p.entries:
            raise fusepy.FuseOSError(errno.ENOENT)
        del p.entries[name]
        p.mtime = time.time_ns()
        return 0

    def rename(self, old, new):
        op, oname = self._parent(old)
        np, nname = self._parent(new)
        n = op.entries.get(oname)
        if n is None:
            raise fusepy.FuseOSError(errno.ENOENT)
        target = np.entries.get(nname)
        if target is not None and target.is_dir():
            if not n.is_dir():
                raise fusepy.FuseOSError(errno.EISDIR)
            if target.entries:
                raise fusepy.FuseOSError(errno.ENOTEMPTY)
        del op.entries[oname]
        np.entries[nname] = n
        op.mtime = np.mtime = time.time_ns()
        return 0


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: powercut_fs.py STATE MOUNTPOINT')
    state, mountpoint = sys.argv[1], sys.argv[2]
    # hard_remove: an unlinked file that is still open stays reachable by its handle only (no
    # .fuse_hidden files); use_ino: our inode numbers reach stat() (SQLite tells files apart by them).
    fusepy.FUSE(PowerCutFS(state), mountpoint, foreground=True, nothreads=True, hard_remove=True, use_ino=True,
                big_writes=True, max_write=131072, fsname='powercut')


if __name__ == '__main__':
    main()
