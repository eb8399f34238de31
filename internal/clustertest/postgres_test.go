package clustertest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/payoutflow/payoutflow/internal/stacktest"
)

// postgresBin finds PostgreSQL's server programs: Debian keeps them in /usr/lib/postgresql/<major>/bin, the newest
// is taken; elsewhere initdb is on the PATH.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) > major(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("PostgreSQL's initdb is neither under /usr/lib/postgresql nor on the PATH: run scripts/install-postgresql.sh")
}

func major(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// postgres is a PostgreSQL server of the test's own: a data directory made by initdb in a temporary directory,
// listening on a free loopback port, its superuser the cluster's POSTGRES_USER with its password. Run as root (CI),
// it runs as the postgres user, as PostgreSQL requires.
type postgres struct {
	bin, dir, data, port string
	asUser               []string // the command prefix that runs a program as the server's owner
}

// startPostgres initdb's and starts a server; it is stopped and removed when the test ends.
func startPostgres(t *testing.T, user, password string) *postgres {
	t.Helper()
	bin, err := postgresBin()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	// Not under t.TempDir(): the postgres user must reach its data directory, and the test's directory is private.
	dir, err := os.MkdirTemp("", "payoutflow-postgres-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	addr, err := stacktest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	pg := &postgres{bin: bin, dir: dir, data: filepath.Join(dir, "data"), port: addr[strings.LastIndex(addr, ":")+1:]}
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		owner, err := osUser("postgres")
		if err != nil {
			t.Fatalf("running as root, PostgreSQL needs the postgres user (Debian's package makes it): %v", err)
		}
		for _, p := range []string{dir, pwFile} {
			if err := os.Chown(p, owner.uid, owner.gid); err != nil {
				t.Fatal(err)
			}
		}
		pg.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	pg.run(t, "initdb", "-D", pg.data, "-U", user, "--pwfile="+pwFile, "--auth=scram-sha-256", "-E", "UTF8",
		"--no-locale", "--no-sync")
	pg.run(t, "pg_ctl", "-D", pg.data, "-l", filepath.Join(dir, "postgres.log"), "-w", "-t", "120",
		"-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %s -k %s", pg.port, dir), "start")
	t.Cleanup(func() {
		if out, err := pg.command("pg_ctl", "-D", pg.data, "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
			t.Logf("stop PostgreSQL: %v: %s", err, out)
		}
	})
	return pg
}

func (pg *postgres) command(name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, pg.asUser...), filepath.Join(pg.bin, name)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = pg.dir
	return cmd
}

func (pg *postgres) run(t *testing.T, name string, args ...string) {
	t.Helper()
	started := time.Now()
	out, err := pg.command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s\n%s", name, err, out, stacktest.Tail(filepath.Join(pg.dir, "postgres.log"), 20))
	}
	t.Logf("%s took %s", name, time.Since(started).Round(time.Millisecond))
}

type owner struct{ uid, gid int }

func osUser(name string) (owner, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return owner{}, err
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return owner{}, err
	}
	gid, err := strconv.Atoi(u.Gid)
	return owner{uid, gid}, err
}
