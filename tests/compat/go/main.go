// synod-compat: drives a 3-member cluster (Synod or etcd) through etcd's own Go client, clientv3 and
// clientv3/concurrency, and prints one PASS or FAIL line per named check. The same program and the same
// checks run against both systems; tests/compat/go/run builds it and starts the clusters.
//
//	synod-compat freeports N
//	    prints N free TCP ports on 127.0.0.1, one a line (the driver uses them for etcd).
//	synod-compat run --system NAME --endpoints H:P,H:P,H:P --kill-request FILE --kill-done FILE
//	    runs every check. In the middle of the concurrent phase it finds the leader with
//	    Maintenance.Status, writes its endpoint to the kill-request file and waits for the driver to
//	    kill -9 that member and write the kill-done file.
//
// Exit status: 0 when every check passed, 1 when one failed, 2 for bad arguments.
// Every client call has a context deadline and every loop has a bound, so a run ends even when a
// server hangs.
package main

import (
	"context"
	"flag"
	"fmt"
	"io/ioutil"
	"math/rand"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/pkg/logutil"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// report prints and counts the named checks of one run.
type report struct {
	system string
	mu     sync.Mutex
	passed int
	failed int
	start  time.Time
}

func (r *report) check(name string, ok bool, format string, args ...interface{}) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	word := "PASS"
	if ok {
		r.passed++
	} else {
		word = "FAIL"
		r.failed++
	}
	fmt.Printf("%s [%s] %s: %s\n", word, r.system, name, fmt.Sprintf(format, args...))
	return ok
}

func (r *report) info(format string, args ...interface{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Printf("      [%s] %6.1fs %s\n", r.system, time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
}

// problems collects the reasons a check fails, so one check can look at many things and report them all.
type problems struct {
	mu   sync.Mutex
	list []string
}

func (p *problems) add(format string, args ...interface{}) {
	p.mu.Lock()
	p.list = append(p.list, fmt.Sprintf(format, args...))
	p.mu.Unlock()
}

func (p *problems) ok() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.list) == 0
}

func (p *problems) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	const shown = 6
	if len(p.list) <= shown {
		return strings.Join(p.list, "; ")
	}
	return strings.Join(p.list[:shown], "; ") + fmt.Sprintf("; and %d more", len(p.list)-shown)
}

// verdict is the detail of a check: its problems when there are any, else what was seen.
func (p *problems) verdict(good string) string {
	if p.ok() {
		return good
	}
	return p.String()
}

func timeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// newClient dials the given endpoints; every client of this program is made here.
func newClient(endpoints []string) (*clientv3.Client, error) {
	logConfig := logutil.DefaultZapLoggerConfig
	logConfig.Level = zap.NewAtomicLevelAt(zap.ErrorLevel)
	return clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		DialOptions: []grpc.DialOption{grpc.WithBlock()},
		LogConfig:   &logConfig,
	})
}

// memberStatus is one endpoint's answer to Maintenance.Status.
type memberStatus struct {
	endpoint string
	resp     *clientv3.StatusResponse
	err      error
}

func statusAll(cli *clientv3.Client, endpoints []string) []memberStatus {
	out := make([]memberStatus, len(endpoints))
	var wg sync.WaitGroup
	for i, ep := range endpoints {
		wg.Add(1)
		go func(i int, ep string) {
			defer wg.Done()
			ctx, cancel := timeout(2 * time.Second)
			defer cancel()
			resp, err := cli.Status(ctx, ep)
			out[i] = memberStatus{ep, resp, err}
		}(i, ep)
	}
	wg.Wait()
	return out
}

// leaderOf reads Status from every endpoint and returns the leader's endpoint and id when every member
// that answered agrees on one leader and that leader's own endpoint says it is the leader (its member id
// in the response header equals the leader field). needAll asks for an answer from every endpoint.
func leaderOf(cli *clientv3.Client, endpoints []string, needAll bool) (string, uint64, string) {
	statuses := statusAll(cli, endpoints)
	leader := uint64(0)
	leaderEndpoint := ""
	answered := 0
	for _, s := range statuses {
		if s.err != nil {
			if needAll {
				return "", 0, fmt.Sprintf("%s: %v", s.endpoint, s.err)
			}
			continue
		}
		answered++
		if s.resp.Leader == 0 {
			return "", 0, fmt.Sprintf("%s knows no leader", s.endpoint)
		}
		if leader != 0 && s.resp.Leader != leader {
			return "", 0, fmt.Sprintf("members disagree on the leader (%x and %x)", leader, s.resp.Leader)
		}
		leader = s.resp.Leader
		if s.resp.Header != nil && s.resp.Header.MemberId == s.resp.Leader {
			leaderEndpoint = s.endpoint
		}
	}
	if answered == 0 {
		return "", 0, "no member answered Status"
	}
	if leaderEndpoint == "" {
		return "", 0, fmt.Sprintf("no endpoint answered as leader %x", leader)
	}
	return leaderEndpoint, leader, ""
}

// waitLeader polls leaderOf until it finds a leader (other than `not`, when not is non-zero).
func waitLeader(cli *clientv3.Client, endpoints []string, needAll bool, not uint64, limit time.Duration) (string, uint64, string) {
	deadline := time.Now().Add(limit)
	why := ""
	for time.Now().Before(deadline) {
		ep, id, reason := leaderOf(cli, endpoints, needAll)
		if reason == "" && id != not {
			return ep, id, ""
		}
		if reason == "" {
			reason = fmt.Sprintf("still led by %x", id)
		}
		why = reason
		time.Sleep(100 * time.Millisecond)
	}
	return "", 0, why
}

// termOf is the Raft term the member at `endpoint` reports, or 0 if it does not answer.
func termOf(cli *clientv3.Client, endpoint string) uint64 {
	s := statusAll(cli, []string{endpoint})[0]
	if s.err != nil {
		return 0
	}
	return s.resp.RaftTerm
}

// waitLeaderAfter polls until the members name a leader in a term after `term`: a failover. The leader
// may be the killed member itself, restarted (etcd restarts it with the same id), so any member counts,
// and the term, not the id, tells an election happened.
func waitLeaderAfter(cli *clientv3.Client, endpoints []string, term uint64, limit time.Duration) (string, uint64, string) {
	deadline := time.Now().Add(limit)
	why := ""
	for time.Now().Before(deadline) {
		ep, id, reason := leaderOf(cli, endpoints, false)
		if reason == "" {
			if now := termOf(cli, ep); now > term {
				return ep, id, ""
			}
			reason = fmt.Sprintf("still led by %x in term %d", id, term)
		}
		why = reason
		time.Sleep(100 * time.Millisecond)
	}
	return "", 0, why
}

// killer asks the driver to kill -9 a member: it writes the endpoint to the request file (by rename, so
// the driver never reads half a line) and waits for the done file.
type killer struct {
	requestFile string
	doneFile    string
}

func (k *killer) kill(endpoint string, limit time.Duration) (string, error) {
	tmp := k.requestFile + ".tmp"
	if err := ioutil.WriteFile(tmp, []byte(endpoint+"\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, k.requestFile); err != nil {
		return "", err
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if data, err := ioutil.ReadFile(k.doneFile); err == nil && len(data) > 0 {
			answer := strings.TrimSpace(string(data))
			if strings.HasPrefix(answer, "killed") {
				return answer, nil
			}
			return "", fmt.Errorf("driver: %s", answer)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", fmt.Errorf("no answer from the driver in %v (%s)", limit, k.doneFile)
}

func freePorts(n int) error {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		listeners = append(listeners, l)
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
	}
	return nil
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: synod-compat freeports N\n"+
		"       synod-compat run --system NAME --endpoints H:P,... --kill-request FILE --kill-done FILE")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "freeports":
		n := 0
		if len(os.Args) != 3 {
			usage()
		}
		if _, err := fmt.Sscan(os.Args[2], &n); err != nil || n < 1 || n > 100 {
			usage()
		}
		if err := freePorts(n); err != nil {
			fmt.Fprintln(os.Stderr, "freeports:", err)
			os.Exit(1)
		}
	case "run":
		fs := flag.NewFlagSet("run", flag.ExitOnError)
		system := fs.String("system", "cluster", "name printed with every check")
		endpoints := fs.String("endpoints", "", "comma-separated client endpoints host:port")
		killRequest := fs.String("kill-request", "", "file the leader's endpoint is written to")
		killDone := fs.String("kill-done", "", "file the driver writes once the leader is killed")
		chaos := fs.Duration("chaos", 14*time.Second, "length of the concurrent phase")
		killAfter := fs.Duration("kill-after", 4*time.Second, "when, in the concurrent phase, the leader is killed")
		seed := fs.Int64("seed", 0, "random seed (0: from the clock)")
		fs.Parse(os.Args[2:])
		eps := strings.Split(*endpoints, ",")
		if *endpoints == "" || len(eps) < 3 || *killRequest == "" || *killDone == "" || *killAfter >= *chaos {
			usage()
		}
		if *seed == 0 {
			*seed = time.Now().UnixNano()
		}
		rand.Seed(*seed)
		r := &report{system: *system, start: time.Now()}
		r.info("endpoints %s, seed %d", strings.Join(eps, ","), *seed)
		run(r, eps, &killer{*killRequest, *killDone}, *chaos, *killAfter)
		fmt.Printf("[%s] %d passed, %d failed (%.1fs)\n", r.system, r.passed, r.failed, time.Since(r.start).Seconds())
		if r.failed > 0 {
			os.Exit(1)
		}
	default:
		usage()
	}
}

// run is the whole sequence for one cluster.
func run(r *report, endpoints []string, k *killer, chaos, killAfter time.Duration) {
	cli, err := newClient(endpoints)
	if err != nil {
		r.check("connect", false, "clientv3.New: %v", err)
		return
	}
	defer cli.Close()

	checkStatus(r, cli, endpoints)
	smoke(r, cli)
	election(r, endpoints, "before-kill")
	chaosPhase(r, cli, endpoints, k, chaos, killAfter)
	election(r, endpoints, "after-kill")
}

// checkStatus: every member answers Status, they agree on one leader, and MemberList shows the members.
func checkStatus(r *report, cli *clientv3.Client, endpoints []string) {
	ep, leader, why := waitLeader(cli, endpoints, true, 0, 20*time.Second)
	var p problems
	if why != "" {
		p.add("no agreed leader within 20s: %s", why)
	}
	ids := map[uint64]string{}
	for _, s := range statusAll(cli, endpoints) {
		if s.err != nil {
			p.add("Status(%s): %v", s.endpoint, s.err)
			continue
		}
		if s.resp.Header == nil || s.resp.Header.MemberId == 0 {
			p.add("Status(%s): no member id in the header", s.endpoint)
			continue
		}
		if other, dup := ids[s.resp.Header.MemberId]; dup {
			p.add("%s and %s have the same member id %x", other, s.endpoint, s.resp.Header.MemberId)
		}
		ids[s.resp.Header.MemberId] = s.endpoint
		if s.resp.RaftTerm == 0 || s.resp.Version == "" {
			p.add("Status(%s): raft term %d, version %q", s.endpoint, s.resp.RaftTerm, s.resp.Version)
		}
		r.info("status %s: member %x leader %x term %d index %d version %s", s.endpoint, s.resp.Header.MemberId,
			s.resp.Leader, s.resp.RaftTerm, s.resp.RaftIndex, s.resp.Version)
	}
	r.check("status.one-leader", p.ok(), p.verdict(fmt.Sprintf("3 members answer, all name %x (%s) as leader", leader, ep)))

	var q problems
	ctx, cancel := timeout(3 * time.Second)
	defer cancel()
	resp, err := cli.MemberList(ctx)
	if err != nil {
		q.add("MemberList: %v", err)
	} else {
		if len(resp.Members) != len(endpoints) {
			q.add("%d members listed, want %d", len(resp.Members), len(endpoints))
		}
		listed := map[uint64]bool{}
		for _, m := range resp.Members {
			listed[m.ID] = true
		}
		for id, ep := range ids {
			if !listed[id] {
				q.add("member %x (%s) is not in MemberList", id, ep)
			}
		}
	}
	r.check("cluster.member-list", q.ok(), q.verdict(fmt.Sprintf("MemberList lists the %d members Status reported", len(ids))))
}

// sortedKeys is for stable messages.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
