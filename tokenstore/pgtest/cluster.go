package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Cluster is a private PostgreSQL server: its own data directory in a
// temporary directory and its own loopback port. Tests use it to stop and
// restart a database under a running store. Its methods are safe for
// concurrent use.
//
// The data directory is made by initdb; the server is then run as a child
// process (postgres -D ...) rather than through pg_ctl, which detaches it:
// a child started with a parent-death signal cannot outlive a test binary
// that is killed by a timeout or crashes before its cleanup.
type Cluster struct {
	root  string // temporary directory holding data/ and server.log
	bin   string // directory holding initdb and postgres
	port  int
	owner *owner // user the server runs as; nil: the current user

	// mu guards proc and serializes Start, Stop and destroy.
	mu   sync.Mutex
	proc *process // the running server; nil while stopped
}

// process is one run of the postgres server.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the server has exited
}

// owner is the account the server runs as when the tests run as root, which
// initdb and postgres refuse.
type owner struct {
	uid, gid uint32
}

// serverStartTimeout bounds initdb and every server start or stop.
const serverStartTimeout = 60 * time.Second

// NewCluster starts a private server for t alone and registers its removal
// with t.Cleanup. It skips t (or fails it when $AUTHD_REQUIRE_POSTGRES=1) if
// the PostgreSQL server binaries are not installed. Starting one takes about
// a second; use URL unless the test must stop the server.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	c, err := startCluster()
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(func() {
		if err := c.destroy(); err != nil {
			t.Logf("pgtest: remove private server: %v", err)
		}
	})
	return c
}

// URL returns the URL of a new, empty database on c for t, dropped at t's
// cleanup if c is running then.
func (c *Cluster) URL(t testing.TB) string {
	t.Helper()
	return createDatabase(t, c.serverURL())
}

// Stop shuts the server down (fast shutdown: sessions are disconnected) and
// returns once it has exited. Connections to it then fail at once with
// "connection refused". Stopping a stopped server does nothing.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopLocked()
}

// Start starts the stopped server again on the same port and data, and
// returns once it accepts connections. Starting a running server does
// nothing.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil {
		return nil
	}
	return c.startLocked()
}

// serverURL is the URL of c's postgres database.
func (c *Cluster) serverURL() string {
	return fmt.Sprintf("postgresql://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// startCluster creates and starts a private server.
func startCluster() (*Cluster, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		if c.owner, err = lookupOwner("postgres"); err != nil {
			return nil, fmt.Errorf("running as root, and initdb refuses root: %w", err)
		}
	}
	if c.root, err = os.MkdirTemp("", "authd-pgtest-"); err != nil {
		return nil, err
	}
	if err := c.initdb(); err != nil {
		_ = os.RemoveAll(c.root)
		return nil, err
	}
	// Another process may grab the free port between the probe and the
	// server's bind; a few attempts make that race harmless.
	for attempt := 0; ; attempt++ {
		if c.port, err = freePort(); err == nil {
			c.mu.Lock()
			err = c.startLocked()
			c.mu.Unlock()
		}
		if err == nil || attempt == 2 {
			break
		}
	}
	if err != nil {
		_ = os.RemoveAll(c.root)
		return nil, err
	}
	return c, nil
}

// initdb creates the data directory.
func (c *Cluster) initdb() error {
	if c.owner != nil {
		if err := os.Chown(c.root, int(c.owner.uid), int(c.owner.gid)); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), serverStartTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, "initdb"),
		"-D", c.dataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--no-locale", "--no-sync")
	cmd.Dir = c.root
	cmd.SysProcAttr = sysProcAttr(c.owner)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, lastLines(out, 5))
	}
	return nil
}

// startLocked starts the server and waits until it accepts connections.
// c.mu must be held and the server stopped.
func (c *Cluster) startLocked() error {
	logFile, err := os.OpenFile(c.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// Durability is pointless for a throwaway server; turning it off makes
	// commits cost what they cost on a server with a fast disk.
	cmd := exec.Command(filepath.Join(c.bin, "postgres"),
		"-D", c.dataDir(), "-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "max_connections=300",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	cmd.Dir = c.root
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr(c.owner)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	c.proc = p
	if err := c.waitReady(p); err != nil {
		_ = c.stopLocked()
		return err
	}
	return nil
}

// waitReady polls the server until it answers, exits or takes too long.
func (c *Cluster) waitReady(p *process) error {
	deadline := time.Now().Add(serverStartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := probe(ctx, c.serverURL())
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("postgres exited at start: %s", c.logTail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after %v: %w", serverStartTimeout, err)
		}
	}
}

// stopLocked stops the server if it runs. c.mu must be held.
func (c *Cluster) stopLocked() error {
	p := c.proc
	if p == nil {
		return nil
	}
	c.proc = nil
	// SIGINT is PostgreSQL's fast shutdown: roll back open transactions,
	// disconnect, checkpoint, exit.
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		_ = p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(serverStartTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("postgres ignored fast shutdown; killed")
	}
}

// destroy stops the server and removes its directory.
func (c *Cluster) destroy() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(c.stopLocked(), os.RemoveAll(c.root))
}

func (c *Cluster) dataDir() string { return filepath.Join(c.root, "data") }
func (c *Cluster) logPath() string { return filepath.Join(c.root, "server.log") }

// logTail returns the end of the server log, for error messages.
func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.logPath())
	return lastLines(b, 5)
}

// findBinaries returns a directory holding both initdb and postgres: the
// one initdb on $PATH resolves to, pg_config's, or the newest Debian-style
// /usr/lib/postgresql/*/bin.
func findBinaries() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, string(trimNewline(out)))
	}
	debian, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest version first; "15" sorts after "9" only numerically.
	sort.Slice(debian, func(i, j int) bool { return versionOf(debian[i]) > versionOf(debian[j]) })
	dirs = append(dirs, debian...)

	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("initdb and postgres not found (PATH, pg_config, /usr/lib/postgresql)")
}

// versionOf returns the major version in a /usr/lib/postgresql/N/bin path.
func versionOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// lookupOwner returns the ids of the named account.
func lookupOwner(name string) (*owner, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user %s: %w", name, err)
	}
	return &owner{uid: uint32(uid), gid: uint32(gid)}, nil
}

// freePort returns a loopback TCP port nobody listened on a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lastLines returns the last n lines of b.
func lastLines(b []byte, n int) string {
	b = trimNewline(b)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			if n--; n == 0 {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
