package main

// Plain KV, lease and watch calls through clientv3, each checked against what etcd 3.4 answers.

import (
	"fmt"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
	"go.etcd.io/etcd/mvcc/mvccpb"
	"google.golang.org/grpc/status"
)

func smoke(r *report, cli *clientv3.Client) {
	smokePrefix(r, cli)
	oldRev, compactRev := smokeTxn(r, cli)
	smokeErrors(r, cli)
	smokeHeaders(r, cli)
	smokeLease(r, cli)
	smokeWatch(r, cli)
	smokeWatchCompacted(r, cli, oldRev, compactRev)
}

func kvString(kvs []*mvccpb.KeyValue) string {
	s := ""
	for i, kv := range kvs {
		if i > 0 {
			s += " "
		}
		s += string(kv.Key) + "=" + string(kv.Value)
	}
	return "[" + s + "]"
}

// kv.prefix: Put, Get with a prefix (plain, sorted, limited, count only), Put with prev_kv, Delete prefix.
func smokePrefix(r *report, cli *clientv3.Client) {
	var p problems
	ctx, cancel := timeout(10 * time.Second)
	defer cancel()
	for _, kv := range [][2]string{{"/compat/smoke/b", "2"}, {"/compat/smoke/a", "1"}, {"/compat/smoke/c", "3"}, {"/compat/smokez", "outside"}} {
		if _, err := cli.Put(ctx, kv[0], kv[1]); err != nil {
			p.add("Put %s: %v", kv[0], err)
		}
	}
	if resp, err := cli.Get(ctx, "/compat/smoke/", clientv3.WithPrefix()); err != nil {
		p.add("Get prefix: %v", err)
	} else if got := kvString(resp.Kvs); got != "[/compat/smoke/a=1 /compat/smoke/b=2 /compat/smoke/c=3]" || resp.Count != 3 {
		p.add("Get prefix: %s count %d", got, resp.Count)
	}
	if resp, err := cli.Get(ctx, "/compat/smoke/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(2)); err != nil {
		p.add("Get prefix sorted+limit: %v", err)
	} else if got := kvString(resp.Kvs); got != "[/compat/smoke/c=3 /compat/smoke/b=2]" || !resp.More || resp.Count != 3 {
		p.add("Get prefix sorted descending limit 2: %s more=%v count=%d", got, resp.More, resp.Count)
	}
	if resp, err := cli.Get(ctx, "/compat/smoke/", clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil {
		p.add("Get count only: %v", err)
	} else if resp.Count != 3 || len(resp.Kvs) != 0 {
		p.add("Get count only: count %d with %d kvs", resp.Count, len(resp.Kvs))
	}
	if resp, err := cli.Put(ctx, "/compat/smoke/a", "1b", clientv3.WithPrevKV()); err != nil {
		p.add("Put prev_kv: %v", err)
	} else if resp.PrevKv == nil || string(resp.PrevKv.Value) != "1" {
		p.add("Put prev_kv: prev %v", resp.PrevKv)
	}
	if resp, err := cli.Delete(ctx, "/compat/smoke/", clientv3.WithPrefix()); err != nil {
		p.add("Delete prefix: %v", err)
	} else if resp.Deleted != 3 {
		p.add("Delete prefix deleted %d, want 3", resp.Deleted)
	}
	if resp, err := cli.Get(ctx, "/compat/smoke", clientv3.WithPrefix()); err != nil {
		p.add("Get after delete: %v", err)
	} else if got := kvString(resp.Kvs); got != "[/compat/smokez=outside]" {
		p.add("after Delete prefix: %s", got)
	}
	r.check("kv.put-get-prefix", p.ok(), p.verdict("Put, Get prefix (sorted, limit+more, count only), prev_kv, Delete prefix"))
}

// kv.txn-cas: compare-and-swap on value, mod revision and version; history reads; compaction errors.
// Returns a revision it compacted away and the compaction revision (0s if it did not get that far).
func smokeTxn(r *report, cli *clientv3.Client) (int64, int64) {
	var p problems
	ctx, cancel := timeout(10 * time.Second)
	defer cancel()
	key := "/compat/smoke/cas"
	put, err := cli.Put(ctx, key, "old")
	if err != nil {
		r.check("kv.txn-cas", false, "Put: %v", err)
		return 0, 0
	}
	oldRev := put.Header.Revision
	swap := func(cmp clientv3.Cmp, val string) (*clientv3.TxnResponse, error) {
		return cli.Txn(ctx).If(cmp).Then(clientv3.OpPut(key, val)).Else(clientv3.OpGet(key)).Commit()
	}
	if resp, err := swap(clientv3.Compare(clientv3.Value(key), "=", "old"), "new"); err != nil {
		p.add("Txn value=old: %v", err)
	} else if !resp.Succeeded {
		p.add("Txn value=old did not succeed")
	}
	newRev := int64(0)
	if resp, err := swap(clientv3.Compare(clientv3.Value(key), "=", "old"), "newer"); err != nil {
		p.add("second Txn value=old: %v", err)
	} else if resp.Succeeded {
		p.add("second Txn value=old succeeded on a changed value")
	} else if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) != 1 || string(kvs[0].Value) != "new" {
		p.add("Else branch Get: %s", kvString(kvs))
	} else {
		newRev = kvs[0].ModRevision
		if kvs[0].Version != 2 || kvs[0].CreateRevision != oldRev {
			p.add("after CAS: version %d create %d, want 2 and %d", kvs[0].Version, kvs[0].CreateRevision, oldRev)
		}
	}
	if resp, err := swap(clientv3.Compare(clientv3.ModRevision(key), "=", newRev), "newest"); err != nil {
		p.add("Txn mod_revision: %v", err)
	} else if !resp.Succeeded {
		p.add("Txn mod_revision=%d did not succeed", newRev)
	}
	if resp, err := swap(clientv3.Compare(clientv3.Version(key), "<", 3), "x"); err != nil {
		p.add("Txn version<3: %v", err)
	} else if resp.Succeeded {
		p.add("Txn version<3 succeeded at version 3")
	}
	if resp, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision("/compat/smoke/missing"), "=", 0)).Commit(); err != nil {
		p.add("Txn create_revision(missing)=0: %v", err)
	} else if !resp.Succeeded {
		p.add("Txn create_revision(missing)=0 did not succeed")
	}
	// History: the old value at its revision, then etcd's errors for compacted and future revisions.
	if resp, err := cli.Get(ctx, key, clientv3.WithRev(oldRev)); err != nil {
		p.add("Get at revision %d: %v", oldRev, err)
	} else if got := kvString(resp.Kvs); got != "["+key+"=old]" {
		p.add("Get at revision %d: %s", oldRev, got)
	}
	last, err := cli.Get(ctx, key)
	compactRev := int64(0)
	if err != nil {
		p.add("Get: %v", err)
	} else {
		current := last.Header.Revision
		if _, err := cli.Compact(ctx, current); err != nil {
			p.add("Compact(%d): %v", current, err)
		} else {
			compactRev = current
		}
		if _, err := cli.Get(ctx, key, clientv3.WithRev(oldRev)); err != rpctypes.ErrCompacted {
			p.add("Get at compacted revision %d: got error %v, want %v", oldRev, err, rpctypes.ErrCompacted)
		}
		if _, err := cli.Get(ctx, key, clientv3.WithRev(current+1000)); err != rpctypes.ErrFutureRev {
			p.add("Get at future revision %d: got error %v, want %v", current+1000, err, rpctypes.ErrFutureRev)
		}
	}
	r.check("kv.txn-cas", p.ok(), p.verdict("Txn compares on value, mod_revision, version, create_revision; Else branch; history read; ErrCompacted and ErrFutureRev after Compact"))
	return oldRev, compactRev
}

// lease.grant-keepalive-revoke
func smokeLease(r *report, cli *clientv3.Client) {
	var p problems
	ctx, cancel := timeout(15 * time.Second)
	defer cancel()
	grant, err := cli.Grant(ctx, 5)
	if err != nil {
		r.check("lease.grant-keepalive-revoke", false, "Grant: %v", err)
		return
	}
	if grant.TTL < 5 {
		p.add("Grant(5) answered TTL %d", grant.TTL)
	}
	for _, k := range []string{"/compat/smoke/lease/a", "/compat/smoke/lease/b"} {
		if _, err := cli.Put(ctx, k, "x", clientv3.WithLease(grant.ID)); err != nil {
			p.add("Put with lease: %v", err)
		}
	}
	kctx, kcancel := timeout(5 * time.Second)
	ch, err := cli.KeepAlive(kctx, grant.ID)
	if err != nil {
		p.add("KeepAlive: %v", err)
	} else {
		select {
		case resp, ok := <-ch:
			if !ok || resp == nil || resp.TTL <= 0 || resp.ID != grant.ID {
				p.add("KeepAlive answer %v (open %v)", resp, ok)
			}
		case <-time.After(4 * time.Second):
			p.add("no KeepAlive answer in 4s")
		}
	}
	kcancel()
	if ttl, err := cli.TimeToLive(ctx, grant.ID, clientv3.WithAttachedKeys()); err != nil {
		p.add("TimeToLive: %v", err)
	} else if ttl.TTL <= 0 || ttl.GrantedTTL != grant.TTL || len(ttl.Keys) != 2 {
		p.add("TimeToLive: ttl %d granted %d keys %d", ttl.TTL, ttl.GrantedTTL, len(ttl.Keys))
	}
	if leases, err := cli.Leases(ctx); err != nil {
		p.add("Leases: %v", err)
	} else {
		found := false
		for _, l := range leases.Leases {
			found = found || l.ID == grant.ID
		}
		if !found {
			p.add("Leases does not list %x", grant.ID)
		}
	}
	if _, err := cli.Revoke(ctx, grant.ID); err != nil {
		p.add("Revoke: %v", err)
	}
	if resp, err := cli.Get(ctx, "/compat/smoke/lease/", clientv3.WithPrefix()); err != nil {
		p.add("Get after Revoke: %v", err)
	} else if len(resp.Kvs) != 0 {
		p.add("keys left after Revoke: %s", kvString(resp.Kvs))
	}
	if ttl, err := cli.TimeToLive(ctx, grant.ID); err != nil {
		p.add("TimeToLive after Revoke: %v", err)
	} else if ttl.TTL != -1 {
		p.add("TimeToLive after Revoke: TTL %d, want -1", ttl.TTL)
	}
	if _, err := cli.Revoke(ctx, grant.ID); err != rpctypes.ErrLeaseNotFound {
		p.add("second Revoke: got error %v, want %v", err, rpctypes.ErrLeaseNotFound)
	}
	r.check("lease.grant-keepalive-revoke", p.ok(), p.verdict("Grant, Put with lease, KeepAlive answer, TimeToLive with keys, Leases, Revoke removes the keys, TTL -1 and ErrLeaseNotFound after"))
}

// watch.put-delete: a live watch sees puts (with prev_kv) and a delete; a watch from an old revision
// replays them.
func smokeWatch(r *report, cli *clientv3.Client) {
	var p problems
	ctx, cancel := timeout(15 * time.Second)
	defer cancel()
	prefix := "/compat/smoke/watch/"
	wch := cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithPrevKV(), clientv3.WithCreatedNotify())
	select {
	case resp := <-wch:
		if !resp.Created {
			p.add("first watch response is not the created notice: %+v", resp)
		}
	case <-time.After(5 * time.Second):
		p.add("no created notice in 5s")
	}
	first, err := cli.Put(ctx, prefix+"k", "v1")
	if err != nil {
		r.check("watch.put-delete", false, "Put: %v", err)
		return
	}
	if _, err := cli.Put(ctx, prefix+"k", "v2"); err != nil {
		p.add("Put: %v", err)
	}
	if _, err := cli.Delete(ctx, prefix+"k"); err != nil {
		p.add("Delete: %v", err)
	}
	want := "PUT k=v1 prev=- | PUT k=v2 prev=v1 | DELETE k prev=v2"
	collect := func(ch clientv3.WatchChan, what string) string {
		got := ""
		n := 0
		deadline := time.After(5 * time.Second)
		for n < 3 {
			select {
			case resp, ok := <-ch:
				if !ok {
					p.add("%s: channel closed after %d events", what, n)
					return got
				}
				if resp.Err() != nil {
					p.add("%s: %v", what, resp.Err())
					return got
				}
				for _, ev := range resp.Events {
					if n > 0 {
						got += " | "
					}
					n++
					k := string(ev.Kv.Key)[len(prefix):]
					prev := "-"
					if ev.PrevKv != nil {
						prev = string(ev.PrevKv.Value)
					}
					if ev.Type == mvccpb.PUT {
						got += fmt.Sprintf("PUT %s=%s prev=%s", k, ev.Kv.Value, prev)
					} else {
						got += fmt.Sprintf("DELETE %s prev=%s", k, prev)
					}
				}
			case <-deadline:
				p.add("%s: %d events in 5s", what, n)
				return got
			}
		}
		return got
	}
	if got := collect(wch, "live watch"); got != want {
		p.add("live watch saw %q, want %q", got, want)
	}
	hctx, hcancel := timeout(10 * time.Second)
	defer hcancel()
	hist := cli.Watch(hctx, prefix, clientv3.WithPrefix(), clientv3.WithPrevKV(), clientv3.WithRev(first.Header.Revision))
	if got := collect(hist, "watch from revision"); got != want {
		p.add("watch from revision %d saw %q, want %q", first.Header.Revision, got, want)
	}
	r.check("watch.put-delete", p.ok(), p.verdict("created notice; live watch and a watch from an old revision both see "+want))
}

// grpcDiff compares an error with one of etcd's (rpctypes.ErrGRPC...): same gRPC code and message.
// Clients tell etcd's errors apart by the message (clientv3 maps it to rpctypes.ErrX) and decide about
// retries by the code.
func grpcDiff(got, want error) string {
	if got == nil {
		return "no error"
	}
	gs, _ := status.FromError(got)
	ws, _ := status.FromError(want)
	if gs.Code() != ws.Code() || gs.Message() != ws.Message() {
		return fmt.Sprintf("%s %q", gs.Code(), gs.Message())
	}
	return ""
}

// kv.error-codes: the errors etcd's servers give for bad requests, exactly (code and message), on the raw
// etcdserverpb stubs, and as the rpctypes values clientv3 users compare against.
func smokeErrors(r *report, cli *clientv3.Client) {
	var p problems
	ctx, cancel := timeout(15 * time.Second)
	defer cancel()
	kv := pb.NewKVClient(cli.ActiveConnection())
	lease := pb.NewLeaseClient(cli.ActiveConnection())
	expect := func(what string, err, want error) {
		if d := grpcDiff(err, want); d != "" {
			ws, _ := status.FromError(want)
			p.add("%s: got %s, want %s %q", what, d, ws.Code(), ws.Message())
		}
	}
	expectClient := func(what string, err, want error) {
		if err != want {
			p.add("%s through clientv3: got %v, want rpctypes %v", what, err, want)
		}
	}

	_, err := kv.Put(ctx, &pb.PutRequest{Key: nil, Value: []byte("x")})
	expect("Put with an empty key", err, rpctypes.ErrGRPCEmptyKey)
	_, err = cli.Put(ctx, "", "x")
	expectClient("Put with an empty key", err, rpctypes.ErrEmptyKey)
	_, err = kv.DeleteRange(ctx, &pb.DeleteRangeRequest{})
	expect("DeleteRange with an empty key", err, rpctypes.ErrGRPCEmptyKey)
	_, err = kv.Range(ctx, &pb.RangeRequest{})
	expect("Range with an empty key", err, rpctypes.ErrGRPCEmptyKey)

	_, err = kv.Put(ctx, &pb.PutRequest{Key: []byte("/compat/errors/k"), Value: []byte("x"), Lease: 0x7eadbeef})
	expect("Put with a lease that does not exist", err, rpctypes.ErrGRPCLeaseNotFound)
	_, err = cli.Put(ctx, "/compat/errors/k", "x", clientv3.WithLease(0x7eadbeef))
	expectClient("Put with a lease that does not exist", err, rpctypes.ErrLeaseNotFound)

	putOp := func(key string) *pb.RequestOp {
		return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte(key), Value: []byte("x")}}}
	}
	_, err = kv.Txn(ctx, &pb.TxnRequest{Success: []*pb.RequestOp{putOp("/compat/errors/d"), putOp("/compat/errors/d")}})
	expect("Txn putting one key twice", err, rpctypes.ErrGRPCDuplicateKey)
	_, err = cli.Txn(ctx).Then(clientv3.OpPut("/compat/errors/d", "1"), clientv3.OpPut("/compat/errors/d", "2")).Commit()
	expectClient("Txn putting one key twice", err, rpctypes.ErrDuplicateKey)
	var raw []*pb.RequestOp
	var ops []clientv3.Op
	for i := 0; i < 129; i++ {
		raw = append(raw, putOp(fmt.Sprintf("/compat/errors/many/%d", i)))
		ops = append(ops, clientv3.OpPut(fmt.Sprintf("/compat/errors/many/%d", i), "x"))
	}
	_, err = kv.Txn(ctx, &pb.TxnRequest{Success: raw})
	expect("Txn with 129 operations", err, rpctypes.ErrGRPCTooManyOps)
	_, err = cli.Txn(ctx).Then(ops...).Commit()
	expectClient("Txn with 129 operations", err, rpctypes.ErrTooManyOps)
	big := make([]byte, 1600*1024)
	_, err = kv.Put(ctx, &pb.PutRequest{Key: []byte("/compat/errors/big"), Value: big})
	expect("Put of 1.6 MiB (over the 1.5 MiB request limit)", err, rpctypes.ErrGRPCRequestTooLarge)

	_, err = lease.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 9000000001})
	expect("LeaseGrant with a TTL over 9e9 s", err, rpctypes.ErrGRPCLeaseTTLTooLarge)
	grant, gerr := lease.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 30})
	if gerr != nil {
		p.add("LeaseGrant: %v", gerr)
	} else {
		_, err = lease.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 30, ID: grant.ID})
		expect("LeaseGrant with the ID of a live lease", err, rpctypes.ErrGRPCLeaseExist)
		lease.LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: grant.ID})
	}
	_, err = lease.LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: 0x7eadbeef})
	expect("LeaseRevoke of a lease that does not exist", err, rpctypes.ErrGRPCLeaseNotFound)
	_, err = cli.KeepAliveOnce(ctx, 0x7eadbeef)
	expectClient("KeepAliveOnce of a lease that does not exist", err, rpctypes.ErrLeaseNotFound)

	rev := int64(0)
	// A write first, so there is a revision after kv.txn-cas's compaction to compact to.
	if resp, err := kv.Put(ctx, &pb.PutRequest{Key: []byte("/compat/errors/rev"), Value: []byte("x")}); err != nil {
		p.add("Put: %v", err)
	} else {
		rev = resp.Header.Revision
		_, err = kv.Range(ctx, &pb.RangeRequest{Key: []byte("/compat/errors/none"), Revision: rev + 1000})
		expect("Range at a future revision", err, rpctypes.ErrGRPCFutureRev)
		_, err = kv.Compact(ctx, &pb.CompactionRequest{Revision: rev + 1000})
		expect("Compact to a future revision", err, rpctypes.ErrGRPCFutureRev)
		if _, err := kv.Compact(ctx, &pb.CompactionRequest{Revision: rev}); err != nil {
			p.add("Compact(%d): %v", rev, err)
		}
		_, err = kv.Compact(ctx, &pb.CompactionRequest{Revision: rev})
		expect("Compact to the revision already compacted", err, rpctypes.ErrGRPCCompacted)
		_, err = kv.Range(ctx, &pb.RangeRequest{Key: []byte("/compat/errors/none"), Revision: rev - 1})
		expect("Range at a compacted revision", err, rpctypes.ErrGRPCCompacted)
	}
	r.check("kv.error-codes", p.ok(), p.verdict("etcd's code and message for: empty key (Put, DeleteRange, Range), unknown lease, duplicate key in Txn, 129 ops, request too large, "+
		"lease TTL too large, lease exists, revoke unknown lease, future and compacted revisions (Range, Compact); clientv3 maps them to rpctypes"))
}

// kv.response-header: every response header carries the cluster id, member id, raft term and revision,
// as etcd's do; a read-only Txn's range responses carry their own header with the Txn's revision
// (concurrency.STM reads it).
func smokeHeaders(r *report, cli *clientv3.Client) {
	var p problems
	ctx, cancel := timeout(10 * time.Second)
	defer cancel()
	header := func(what string, h *pb.ResponseHeader, err error) {
		if err != nil {
			p.add("%s: %v", what, err)
		} else if h == nil {
			p.add("%s: no header", what)
		} else if h.ClusterId == 0 || h.MemberId == 0 || h.RaftTerm == 0 || h.Revision <= 0 {
			p.add("%s: header cluster_id %x member_id %x raft_term %d revision %d", what, h.ClusterId, h.MemberId, h.RaftTerm, h.Revision)
		}
	}
	put, err := cli.Put(ctx, "/compat/header/k", "v")
	if err == nil {
		header("Put", put.Header, nil)
	} else {
		header("Put", nil, err)
	}
	get, err := cli.Get(ctx, "/compat/header/k")
	if err == nil {
		header("Range", get.Header, nil)
	} else {
		header("Range", nil, err)
	}
	txn, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.Version("/compat/header/k"), ">", 0)).
		Then(clientv3.OpGet("/compat/header/k"), clientv3.OpGet("/compat/header/none")).Commit()
	if err != nil {
		header("Txn", nil, err)
	} else {
		header("Txn", txn.Header, nil)
		for i, resp := range txn.Responses {
			rr := resp.GetResponseRange()
			if rr == nil || rr.Header == nil {
				p.add("read-only Txn: range response %d has no header", i)
			} else if rr.Header.Revision != txn.Header.Revision {
				p.add("read-only Txn: range response %d has revision %d, the Txn %d", i, rr.Header.Revision, txn.Header.Revision)
			}
		}
	}
	grant, err := cli.Grant(ctx, 10)
	if err == nil {
		header("LeaseGrant", grant.ResponseHeader, nil)
		ttl, err := cli.TimeToLive(ctx, grant.ID)
		if err == nil {
			header("LeaseTimeToLive", ttl.ResponseHeader, nil)
		} else {
			header("LeaseTimeToLive", nil, err)
		}
		rv, err := cli.Revoke(ctx, grant.ID)
		if err == nil {
			header("LeaseRevoke", rv.Header, nil)
		} else {
			header("LeaseRevoke", nil, err)
		}
	} else {
		header("LeaseGrant", nil, err)
	}
	del, err := cli.Delete(ctx, "/compat/header/k")
	if err == nil {
		header("DeleteRange", del.Header, nil)
	} else {
		header("DeleteRange", nil, err)
	}
	r.check("kv.response-header", p.ok(), p.verdict("Put, Range, Txn (and its range responses), DeleteRange, LeaseGrant, LeaseTimeToLive, LeaseRevoke: "+
		"cluster_id, member_id, raft_term and revision set"))
}

// watch.compacted: a watch from a compacted revision is cancelled with ErrCompacted and the compaction
// revision, and its channel closes; a progress request gets a progress notice at the current revision.
func smokeWatchCompacted(r *report, cli *clientv3.Client, oldRev, compactRev int64) {
	var p problems
	if oldRev == 0 || compactRev == 0 {
		r.check("watch.compacted-and-progress", false, "kv.txn-cas did not compact")
		return
	}
	ctx, cancel := timeout(10 * time.Second)
	defer cancel()
	wch := cli.Watch(ctx, "/compat/smoke/cas", clientv3.WithRev(oldRev))
	select {
	case resp, ok := <-wch:
		switch {
		case !ok:
			p.add("watch from compacted revision %d: channel closed with no response", oldRev)
		case resp.Err() != rpctypes.ErrCompacted || !resp.Canceled:
			p.add("watch from compacted revision %d: canceled %v, error %v, want canceled with %v", oldRev, resp.Canceled, resp.Err(), rpctypes.ErrCompacted)
		case resp.CompactRevision < compactRev:
			p.add("watch from compacted revision %d: compact_revision %d, want at least %d", oldRev, resp.CompactRevision, compactRev)
		}
		if ok {
			select {
			case _, open := <-wch:
				if open {
					p.add("the cancelled watch's channel delivered more")
				}
			case <-time.After(3 * time.Second):
				p.add("the cancelled watch's channel did not close in 3s")
			}
		}
	case <-time.After(5 * time.Second):
		p.add("watch from compacted revision %d: nothing in 5s", oldRev)
	}

	pctx, pcancel := timeout(10 * time.Second)
	defer pcancel()
	live := cli.Watch(pctx, "/compat/smoke/progress", clientv3.WithCreatedNotify())
	select {
	case resp := <-live:
		if !resp.Created {
			p.add("first response is not the created notice")
		} else if resp.Header.Revision <= 0 || resp.Header.ClusterId == 0 || resp.Header.MemberId == 0 || resp.Header.RaftTerm == 0 {
			p.add("created notice header: %+v", resp.Header)
		}
	case <-time.After(5 * time.Second):
		p.add("no created notice in 5s")
	}
	// A progress notice gives the revision of the member serving the watch, which may be behind a write
	// acknowledged through another member; once the watch has delivered the put, it is not.
	put, err := cli.Put(pctx, "/compat/smoke/progress", "x")
	if err != nil {
		p.add("Put: %v", err)
	} else {
		select {
		case resp := <-live:
			if len(resp.Events) != 1 || resp.Events[0].Kv.ModRevision != put.Header.Revision {
				p.add("watch: %d events, want the put at revision %d", len(resp.Events), put.Header.Revision)
			}
		case <-time.After(5 * time.Second):
			p.add("the watch did not deliver the put in 5s")
		}
		if err := cli.RequestProgress(pctx); err != nil {
			p.add("RequestProgress: %v", err)
		} else {
			select {
			case resp := <-live:
				if !resp.IsProgressNotify() || resp.Header.Revision < put.Header.Revision {
					p.add("after RequestProgress: events %d, revision %d (want a progress notice at %d or later)", len(resp.Events), resp.Header.Revision, put.Header.Revision)
				}
			case <-time.After(5 * time.Second):
				p.add("no progress notice within 5s of RequestProgress")
			}
		}
	}
	r.check("watch.compacted-and-progress", p.ok(), p.verdict("a watch from a compacted revision is cancelled with ErrCompacted and compact_revision, then closed; "+
		"after the watch delivered a put, RequestProgress brings a progress notice at or past its revision"))
}
