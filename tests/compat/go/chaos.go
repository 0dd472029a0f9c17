package main

// The concurrent phase: mutex holders, STM transfers, writers and a watcher run for a fixed time while
// the leader is killed with kill -9 (by the driver) part way through. Errors from the cluster around
// the kill are allowed and counted; wrong answers are not.

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/concurrency"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

const (
	mutexWorkers = 4
	stmWorkers   = 3
	writers      = 2
	accounts     = 5
	initialFunds = 100
	mutexName    = "/compat/mutex"
	ackedPrefix  = "/compat/acked/"
)

// phase knows when the concurrent phase ends and when the leader was killed.
type phase struct {
	start, end time.Time
	killedAt   int64 // unix nanoseconds, 0 until the driver confirmed the kill
}

func (p *phase) running() bool { return time.Now().Before(p.end) }

// afterKill: t is later than the confirmed kill.
func (p *phase) afterKill(t time.Time) bool {
	k := atomic.LoadInt64(&p.killedAt)
	return k != 0 && t.UnixNano() > k
}

// errorTally counts errors by message, to print what the clients saw around the kill.
type errorTally struct {
	mu     sync.Mutex
	counts map[string]int
	total  int64
}

func (t *errorTally) add(what string, err error) {
	atomic.AddInt64(&t.total, 1)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = map[string]int{}
	}
	msg := err.Error()
	if len(msg) > 90 {
		msg = msg[:90] + "..."
	}
	t.counts[what+": "+msg]++
}

func (t *errorTally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.counts) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(t.counts))
	for k := range t.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += "; "
		}
		s += fmt.Sprintf("%dx %s", t.counts[k], k)
	}
	return s
}

func chaosPhase(r *report, cli *clientv3.Client, endpoints []string, k *killer, length, killAfter time.Duration) {
	var clients []*clientv3.Client
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	client := func() *clientv3.Client {
		c, err := newClient(endpoints)
		if err != nil {
			r.check("chaos.setup", false, "clientv3.New: %v", err)
			return nil
		}
		clients = append(clients, c)
		return c
	}

	// Accounts for the STM transfers, written in one Txn.
	ctx, cancel := timeout(5 * time.Second)
	var puts []clientv3.Op
	for i := 0; i < accounts; i++ {
		puts = append(puts, clientv3.OpPut(account(i), strconv.Itoa(initialFunds)))
	}
	_, err := cli.Txn(ctx).Then(puts...).Commit()
	cancel()
	if err != nil {
		r.check("chaos.setup", false, "writing the accounts: %v", err)
		return
	}
	// A session made before the kill, with a key on its lease: it must outlive the kill.
	survivorClient := client()
	if survivorClient == nil {
		return
	}
	survivor, err := newSession(survivorClient, 5)
	if err != nil {
		r.check("chaos.setup", false, "session: %v", err)
		return
	}
	defer closeSession(survivor)
	ctx, cancel = timeout(5 * time.Second)
	_, err = survivorClient.Put(ctx, "/compat/survivor", "alive", clientv3.WithLease(survivor.Lease()))
	cancel()
	if err != nil {
		r.check("chaos.setup", false, "Put with the session's lease: %v", err)
		return
	}
	// A watcher on everything the writers write, from the revision before they start.
	watchClient := client()
	if watchClient == nil {
		return
	}
	ctx, cancel = timeout(5 * time.Second)
	base, err := cli.Get(ctx, ackedPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	cancel()
	if err != nil {
		r.check("chaos.setup", false, "Get: %v", err)
		return
	}
	watched := &watchLog{}
	wctx, wcancel := context.WithTimeout(context.Background(), length+90*time.Second)
	defer wcancel()
	go watched.run(watchClient.Watch(wctx, ackedPrefix, clientv3.WithPrefix(), clientv3.WithRev(base.Header.Revision+1)))

	ph := &phase{start: time.Now(), end: time.Now().Add(length)}
	r.info("concurrent phase: %d mutex holders, %d STM workers, %d writers, a watcher; %v long, leader kill at +%v",
		mutexWorkers, stmWorkers, writers, length, killAfter)

	mx := &mutexRun{active: map[*hold]bool{}}
	st := &stmRun{}
	wr := make([]*writerRun, writers)
	var wg sync.WaitGroup
	for i := 0; i < mutexWorkers; i++ {
		if c := client(); c != nil {
			wg.Add(1)
			go func(i int, c *clientv3.Client) { defer wg.Done(); mx.worker(i, c, ph) }(i, c)
		}
	}
	for i := 0; i < stmWorkers; i++ {
		// Alternate the two serializable isolation levels (NewSTM's default is SerializableSnapshot).
		iso := concurrency.SerializableSnapshot
		if i%2 == 1 {
			iso = concurrency.Serializable
		}
		if c := client(); c != nil {
			wg.Add(1)
			go func(c *clientv3.Client, iso concurrency.Isolation) { defer wg.Done(); st.worker(c, ph, iso) }(c, iso)
		}
	}
	for i := 0; i < writers; i++ {
		wr[i] = &writerRun{id: i}
		if c := client(); c != nil {
			wg.Add(1)
			go func(w *writerRun, c *clientv3.Client) { defer wg.Done(); w.run(c, ph) }(wr[i], c)
		}
	}

	// The kill, from this goroutine: find the leader, have the driver kill it, time the failover.
	var failover problems
	killed := ""
	time.Sleep(time.Until(ph.start.Add(killAfter)))
	leaderEp, leaderID, why := waitLeader(cli, endpoints, true, 0, 5*time.Second)
	if why != "" {
		failover.add("no leader to kill: %s", why)
	} else {
		r.info("leader is %x at %s; asking the driver to kill -9 it", leaderID, leaderEp)
		leaderTerm := termOf(cli, leaderEp)
		answer, err := k.kill(leaderEp, 15*time.Second)
		if err != nil {
			failover.add("kill: %v", err)
		} else {
			killed = leaderEp
			killTime := time.Now()
			atomic.StoreInt64(&ph.killedAt, killTime.UnixNano())
			r.info("driver: %s", answer)
			// First successful write after the kill.
			wrote := time.Duration(0)
			for i := 0; i < 1000 && wrote == 0 && time.Since(killTime) < 15*time.Second; i++ {
				ctx, cancel := timeout(250 * time.Millisecond)
				if _, err := cli.Put(ctx, "/compat/failover", strconv.Itoa(i)); err == nil {
					wrote = time.Since(killTime)
				}
				cancel()
				if wrote == 0 {
					time.Sleep(20 * time.Millisecond)
				}
			}
			newEp, newID, why := waitLeaderAfter(cli, endpoints, leaderTerm, 10*time.Second)
			if why != "" {
				failover.add("no leader elected within 10s of the kill: %s", why)
			}
			if wrote == 0 {
				failover.add("no write succeeded within 15s of the kill")
			}
			if failover.ok() {
				r.check("failover", true, "killed leader %x (%s); leader after it %x (%s); first write acknowledged %d ms after the kill",
					leaderID, leaderEp, newID, newEp, wrote.Milliseconds())
			}
		}
	}
	if !failover.ok() {
		r.check("failover", false, failover.String())
	}

	// The workers stop by themselves at the end of the phase; each call has a deadline, so they must
	// all be back soon after.
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(time.Until(ph.end) + 30*time.Second):
		r.check("chaos.workers-finish", false, "workers still running 30s after the end of the phase")
	}
	r.info("concurrent phase over")

	checkRejoin(r, cli, endpoints, killed)
	mx.verify(r, ph)
	st.verify(r, cli, ph)
	verifyWrites(r, endpoints, wr, watched, ph)
	verifySurvivor(r, survivorClient, survivor)
}

// checkRejoin: the killed member is back (restarted by the launcher or the driver) and agrees on the leader.
func checkRejoin(r *report, cli *clientv3.Client, endpoints []string, killed string) {
	if killed == "" {
		r.check("rejoin", false, "no member was killed")
		return
	}
	ep, id, why := waitLeader(cli, endpoints, true, 0, 30*time.Second)
	if why != "" {
		r.check("rejoin", false, "the killed member %s did not rejoin within 30s: %s", killed, why)
		return
	}
	r.check("rejoin", true, "the killed member %s answers Status again; all 3 agree on leader %x (%s)", killed, id, ep)
}

// ---------------------------------------------------------------------------------------------------
// Mutex.
//
// What exclusivity can honestly be asserted. concurrency.Mutex ties ownership to the session's lease: the
// holder is the waiter whose key has the lowest create revision. If a holder's lease expires (its
// keep-alives did not get through within the TTL, which a leader kill can cause), the server deletes its
// key and the next waiter becomes the holder while the first process still believes it holds the lock:
// no lease-based lock can prevent that, and etcd documents it (which is why the lock's revision is a
// fencing token). So the in-process holder counter may legitimately exceed 1 when a session was lost.
// The property that must hold is: two holders whose keys were both still present, with their own create
// revisions, when they left the critical section were never inside it at the same time. Each holder
// checks, before leaving, with a Txn comparing its key's create revision (Mutex.IsOwner) that its key is
// still there; a key with a given create revision exists over one contiguous range of revisions, so a
// holder that passes held the lock from its Lock until that check. A holder whose check fails (or
// errs) is counted but not held to exclusivity. The fencing tokens of the verified holders, in the order
// they entered, must strictly increase.

type hold struct {
	seq       int
	worker    int
	key       string
	token     int64 // Mutex.Header().Revision: the revision at which Lock saw this holder own the lock
	createRev int64 // the key's create revision, from the exit check
	entered   time.Time
	verified  bool
	checkErr  bool    // the owner check failed with an error (ownership unknown), rather than finding the key gone
	overlaps  []*hold // holders that were inside when this one entered
}

type mutexRun struct {
	mu           sync.Mutex
	active       map[*hold]bool
	holds        []*hold
	maxInside    int
	lockErrs     errorTally
	unlockErrs   errorTally
	checkErrs    errorTally
	sessionsLost int64
}

func (m *mutexRun) enter(h *hold) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	h.seq = len(m.holds)
	m.holds = append(m.holds, h)
	for o := range m.active {
		h.overlaps = append(h.overlaps, o)
	}
	m.active[h] = true
	inside := len(m.active)
	if inside > m.maxInside {
		m.maxInside = inside
	}
	return inside
}

func (m *mutexRun) leave(h *hold, verified, checkErr bool, createRev int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h.verified = verified
	h.checkErr = checkErr
	h.createRev = createRev
	delete(m.active, h)
}

func (m *mutexRun) worker(id int, c *clientv3.Client, ph *phase) {
	var session *concurrency.Session
	defer func() {
		if session != nil {
			closeSession(session)
		}
	}()
	for i := 0; i < 100000 && ph.running(); i++ {
		if session != nil {
			select {
			case <-session.Done():
				// The keep-alive stopped: the lease expired. Its keys are gone; start a new session.
				atomic.AddInt64(&m.sessionsLost, 1)
				session = nil
			default:
			}
		}
		if session == nil {
			s, err := newSession(c, 5)
			if err != nil {
				m.lockErrs.add("new session", err)
				time.Sleep(100 * time.Millisecond)
				continue
			}
			session = s
		}
		mu := concurrency.NewMutex(session, mutexName)
		ctx, cancel := timeout(5 * time.Second)
		err := mu.Lock(ctx)
		cancel()
		if err != nil {
			m.lockErrs.add("Lock", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		h := &hold{worker: id, key: mu.Key(), token: mu.Header().Revision, entered: time.Now()}
		m.enter(h) // the in-process holder count; checked against the verified holders in verify
		time.Sleep(time.Duration(5+rand.Intn(20)) * time.Millisecond)
		// Still the owner? The key must exist with the create revision Lock saw.
		ctx, cancel = timeout(3 * time.Second)
		resp, err := c.Txn(ctx).If(mu.IsOwner()).Then(clientv3.OpGet(mu.Key())).Commit()
		cancel()
		verified, createRev := false, int64(0)
		if err != nil {
			m.checkErrs.add("owner check", err)
		} else if resp.Succeeded {
			if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) == 1 {
				verified, createRev = true, kvs[0].CreateRevision
			}
		}
		m.leave(h, verified, err != nil, createRev)
		ctx, cancel = timeout(3 * time.Second)
		if err := mu.Unlock(ctx); err != nil {
			m.unlockErrs.add("Unlock", err)
		}
		cancel()
	}
}

func (m *mutexRun) verify(r *report, ph *phase) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var excl, fence problems
	verified, keyGone, unknown, overlapsExcused, before, after, relocks := 0, 0, 0, 0, 0, 0, 0
	var last *hold
	for _, h := range m.holds {
		if !h.verified {
			if h.checkErr {
				unknown++
			} else {
				keyGone++
			}
			continue
		}
		verified++
		if ph.afterKill(h.entered) {
			after++
		} else {
			before++
		}
		for _, o := range h.overlaps {
			if o.verified {
				excl.add("holders %d (worker %d, key %s, token %d) and %d (worker %d, key %s, token %d) held the lock at once, both sessions alive",
					o.seq, o.worker, o.key, o.token, h.seq, h.worker, h.key, h.token)
			} else {
				overlapsExcused++
			}
		}
		if last != nil {
			// A failed Unlock leaves the holder's key in place, and the same session's next Lock takes it
			// again through Lock's read-only branch: the same ownership, so the token may repeat, but only then.
			sameKey := h.key == last.key && h.createRev == last.createRev
			if sameKey {
				relocks++
			}
			if h.token < last.token || (h.token == last.token && !sameKey) {
				fence.add("holder %d's token %d follows holder %d's %d", h.seq, h.token, last.seq, last.token)
			}
			if h.createRev <= last.createRev && !sameKey {
				fence.add("holder %d's key create revision %d follows holder %d's %d", h.seq, h.createRev, last.seq, last.createRev)
			}
		}
		last = h
	}
	r.info("mutex: %d holds: %d verified, %d whose key was gone before they left, %d whose owner check failed; "+
		"at most %d inside at once in-process; %d sessions expired; Lock errors: %s; owner-check errors: %s; Unlock errors: %s",
		len(m.holds), verified, keyGone, unknown, m.maxInside, m.sessionsLost, m.lockErrs.String(), m.checkErrs.String(), m.unlockErrs.String())
	r.check("mutex.exclusive", excl.ok(), excl.verdict(fmt.Sprintf(
		"%d verified holders, never two inside at once (%d overlaps involved a holder whose session had expired)", verified, overlapsExcused)))
	r.check("mutex.fencing-token", fence.ok(), fence.verdict(fmt.Sprintf(
		"Header().Revision and key create revision strictly increase over the %d verified holders "+
			"(except %d re-locks of a key a failed Unlock left in place)", verified, relocks)))
	r.check("mutex.progress", before > 0 && after > 0, "%d verified holds before the kill, %d after", before, after)
}

// ---------------------------------------------------------------------------------------------------
// STM transfers: money moves between accounts in transactions; the total never changes.

func account(i int) string { return fmt.Sprintf("/compat/stm/account/%d", i) }

// badBalance: an account did not hold a number (a wrong answer, not a cluster error).
type badBalance struct {
	account int
	err     error
}

func (b badBalance) Error() string { return fmt.Sprintf("account %d: %v", b.account, b.err) }

type stmRun struct {
	committed, afterKill, skipped int64
	errs                          errorTally
	bad                           problems
}

func (s *stmRun) worker(c *clientv3.Client, ph *phase, iso concurrency.Isolation) {
	for i := 0; i < 100000 && ph.running(); i++ {
		from := rand.Intn(accounts)
		to := (from + 1 + rand.Intn(accounts-1)) % accounts
		amount := 1 + rand.Intn(10)
		moved := false
		ctx, cancel := timeout(5 * time.Second)
		_, err := concurrency.NewSTM(c, func(stm concurrency.STM) error {
			moved = false
			a, err := strconv.Atoi(stm.Get(account(from)))
			if err != nil {
				return badBalance{from, err}
			}
			b, err := strconv.Atoi(stm.Get(account(to)))
			if err != nil {
				return badBalance{to, err}
			}
			if a < amount {
				return nil
			}
			stm.Put(account(from), strconv.Itoa(a-amount))
			stm.Put(account(to), strconv.Itoa(b+amount))
			moved = true
			return nil
		}, concurrency.WithAbortContext(ctx), concurrency.WithIsolation(iso), concurrency.WithPrefetch(account(from), account(to)))
		cancel()
		_, bad := err.(badBalance)
		switch {
		case bad:
			s.bad.add("%v", err)
		case err != nil:
			s.errs.add("STM", err)
			time.Sleep(20 * time.Millisecond)
		case moved:
			atomic.AddInt64(&s.committed, 1)
			if ph.afterKill(time.Now()) {
				atomic.AddInt64(&s.afterKill, 1)
			}
		default:
			atomic.AddInt64(&s.skipped, 1)
		}
	}
}

func (s *stmRun) verify(r *report, cli *clientv3.Client, ph *phase) {
	p := &s.bad
	ctx, cancel := timeout(5 * time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "/compat/stm/account/", clientv3.WithPrefix())
	total := 0
	if err != nil {
		p.add("Get accounts: %v", err)
	} else {
		if len(resp.Kvs) != accounts {
			p.add("%d accounts, want %d", len(resp.Kvs), accounts)
		}
		for _, kv := range resp.Kvs {
			n, err := strconv.Atoi(string(kv.Value))
			if err != nil || n < 0 {
				p.add("%s holds %q", kv.Key, kv.Value)
			}
			total += n
		}
		if total != accounts*initialFunds {
			p.add("the balances add up to %d, want %d (%s)", total, accounts*initialFunds, kvString(resp.Kvs))
		}
	}
	if s.afterKill == 0 {
		p.add("no transfer committed after the kill")
	}
	r.info("stm: %d transfers committed (%d after the kill), %d skipped for lack of funds; errors: %s",
		s.committed, s.afterKill, s.skipped, s.errs.String())
	r.check("stm.sum-unchanged", p.ok(), p.verdict(fmt.Sprintf("%d transfers (%d after the kill); the %d balances still add up to %d, none negative",
		s.committed, s.afterKill, accounts, total)))
}

// ---------------------------------------------------------------------------------------------------
// Acknowledged writes: every Put that returned success must be there afterwards, through every member,
// and the watcher must have seen it.

type ackedPut struct {
	key, value string
	rev        int64
}

type writerRun struct {
	id        int
	acked     []ackedPut
	failed    int
	afterKill int
	errs      errorTally
}

func (w *writerRun) run(c *clientv3.Client, ph *phase) {
	for i := 0; i < 20000 && ph.running(); i++ {
		key := fmt.Sprintf("%sw%d/%06d", ackedPrefix, w.id, i)
		value := fmt.Sprintf("w%d-%d-%d", w.id, i, rand.Int63())
		ctx, cancel := timeout(2 * time.Second)
		resp, err := c.Put(ctx, key, value)
		cancel()
		if err != nil {
			w.failed++
			w.errs.add("Put", err)
			time.Sleep(20 * time.Millisecond)
			continue
		}
		w.acked = append(w.acked, ackedPut{key, value, resp.Header.Revision})
		if ph.afterKill(time.Now()) {
			w.afterKill++
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// watchLog records every event of one watch.
type watchLog struct {
	mu      sync.Mutex
	events  []*mvccpb.KeyValue
	types   []mvccpb.Event_EventType
	lastRev int64
	err     error
	closed  bool
}

func (l *watchLog) run(ch clientv3.WatchChan) {
	for resp := range ch {
		l.mu.Lock()
		if err := resp.Err(); err != nil && l.err == nil {
			l.err = err
		}
		for _, ev := range resp.Events {
			l.events = append(l.events, ev.Kv)
			l.types = append(l.types, ev.Type)
			if ev.Kv.ModRevision > l.lastRev {
				l.lastRev = ev.Kv.ModRevision
			}
		}
		l.mu.Unlock()
	}
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

func verifyWrites(r *report, endpoints []string, ws []*writerRun, watched *watchLog, ph *phase) {
	acked := map[string]ackedPut{}
	var maxRev int64
	failed, afterKill := 0, 0
	for _, w := range ws {
		for _, a := range w.acked {
			acked[a.key] = a
			if a.rev > maxRev {
				maxRev = a.rev
			}
		}
		failed += w.failed
		afterKill += w.afterKill
		r.info("writer %d: %d acknowledged (%d after the kill), %d failed; errors: %s", w.id, len(w.acked), w.afterKill, w.failed, w.errs.String())
	}

	// Through each member on its own: a linearizable Get of the whole prefix.
	var p problems
	if afterKill == 0 {
		p.add("no write was acknowledged after the kill")
	}
	unacked := 0
	for _, ep := range endpoints {
		c, err := newClient([]string{ep})
		if err != nil {
			p.add("%s: clientv3.New: %v", ep, err)
			continue
		}
		var resp *clientv3.GetResponse
		for tries := 0; tries < 10; tries++ {
			ctx, cancel := timeout(3 * time.Second)
			resp, err = c.Get(ctx, ackedPrefix, clientv3.WithPrefix())
			cancel()
			if err == nil {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
		c.Close()
		if err != nil {
			p.add("%s: Get: %v", ep, err)
			continue
		}
		got := map[string]string{}
		for _, kv := range resp.Kvs {
			got[string(kv.Key)] = string(kv.Value)
		}
		missing, wrong := 0, 0
		for _, key := range sortedAcked(acked) {
			a := acked[key]
			if v, ok := got[key]; !ok {
				if missing++; missing <= 3 {
					p.add("%s: acknowledged %s (revision %d) is missing", ep, key, a.rev)
				}
			} else if v != a.value {
				if wrong++; wrong <= 3 {
					p.add("%s: %s is %q, acknowledged %q", ep, key, v, a.value)
				}
			}
		}
		if missing+wrong > 3 {
			p.add("%s: %d missing and %d wrong in all", ep, missing, wrong)
		}
		unacked = len(got) - len(acked)
	}
	r.check("writes.acknowledged-durable", p.ok(), p.verdict(fmt.Sprintf(
		"all %d acknowledged puts (%d after the kill) read back with their values through each of the %d members; %d failed puts, %d of them applied anyway",
		len(acked), afterKill, len(endpoints), failed, unacked)))

	// The watcher saw every acknowledged put, at its revision, in revision order, across the kill.
	var q problems
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		watched.mu.Lock()
		caught := watched.lastRev >= maxRev || watched.closed
		watched.mu.Unlock()
		if caught {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	watched.mu.Lock()
	defer watched.mu.Unlock()
	if watched.err != nil {
		q.add("watch error: %v", watched.err)
	}
	if watched.closed {
		q.add("the watch channel closed")
	}
	seen := map[string]*mvccpb.KeyValue{}
	var prev int64
	for i, kv := range watched.events {
		if kv.ModRevision <= prev {
			q.add("event %d at revision %d after one at %d", i, kv.ModRevision, prev)
		}
		prev = kv.ModRevision
		if watched.types[i] != mvccpb.PUT {
			q.add("unexpected %v of %s", watched.types[i], kv.Key)
		}
		seen[string(kv.Key)] = kv
	}
	missing := 0
	for _, key := range sortedAcked(acked) {
		a := acked[key]
		kv, ok := seen[key]
		switch {
		case !ok:
			if missing++; missing <= 3 {
				q.add("no event for acknowledged %s (revision %d)", key, a.rev)
			}
		case string(kv.Value) != a.value || kv.ModRevision != a.rev:
			q.add("event for %s: %q at revision %d, acknowledged %q at %d", key, kv.Value, kv.ModRevision, a.value, a.rev)
		}
	}
	if missing > 3 {
		q.add("%d acknowledged puts without an event in all", missing)
	}
	r.check("watch.across-kill", q.ok(), q.verdict(fmt.Sprintf(
		"one watch saw %d events in revision order, including every acknowledged put at its revision", len(watched.events))))
}

func sortedAcked(m map[string]ackedPut) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// verifySurvivor: a session made before the kill (TTL 5s, kept alive by its client) outlived it.
func verifySurvivor(r *report, c *clientv3.Client, s *concurrency.Session) {
	var p problems
	select {
	case <-s.Done():
		p.add("the session's keep-alive stopped")
	default:
	}
	ctx, cancel := timeout(5 * time.Second)
	defer cancel()
	ttl, err := c.TimeToLive(ctx, s.Lease(), clientv3.WithAttachedKeys())
	if err != nil {
		p.add("TimeToLive: %v", err)
	} else if ttl.TTL <= 0 || len(ttl.Keys) != 1 {
		p.add("TimeToLive: TTL %d with %d keys", ttl.TTL, len(ttl.Keys))
	}
	resp, err := c.Get(ctx, "/compat/survivor")
	if err != nil {
		p.add("Get: %v", err)
	} else if len(resp.Kvs) != 1 {
		p.add("the key on the session's lease is gone")
	}
	r.check("lease.session-survives-kill", p.ok(), p.verdict("a 5s session made before the kill is alive after it, with its key"))
}
