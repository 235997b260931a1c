namespace ConfigInjector.Backends;

/// <summary>
/// The requests one backend may have in flight, shared fairly among tenants (namespaces): no tenant holds more than
/// half of them, and a freed slot goes to the next waiting tenant in turn, not to whoever queued the most. A waiter
/// whose caller gave up leaves the queue at once.
/// </summary>
internal sealed class FairSlots(int capacity)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, int> _held = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<TaskCompletionSource<IDisposable>>> _waiting = new(StringComparer.Ordinal);
    // Tenants with waiters, in the order they get their next slot.
    private readonly LinkedList<string> _turns = new();
    private int _inUse;

    public int Capacity => capacity;

    public int PerTenantLimit => Math.Max(1, capacity / 2);

    public int InUse
    {
        get
        {
            lock (_gate)
                return _inUse;
        }
    }

    public Task<IDisposable> AcquireAsync(string tenant, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TaskCompletionSource<IDisposable> waiter;
        lock (_gate)
        {
            if (_inUse < capacity && _held.GetValueOrDefault(tenant) < PerTenantLimit && !_waiting.ContainsKey(tenant))
                return Task.FromResult<IDisposable>(Grant(tenant));
            waiter = new TaskCompletionSource<IDisposable>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_waiting.TryGetValue(tenant, out var queue))
            {
                _waiting[tenant] = queue = new Queue<TaskCompletionSource<IDisposable>>();
                _turns.AddLast(tenant);
            }
            queue.Enqueue(waiter);
        }
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() =>
            {
                if (waiter.TrySetCanceled(cancellationToken))
                {
                    lock (_gate)
                        Dispatch();
                }
            });
            _ = waiter.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        }
        return waiter.Task;
    }

    private Slot Grant(string tenant)
    {
        _inUse++;
        _held[tenant] = _held.GetValueOrDefault(tenant) + 1;
        return new Slot(this, tenant);
    }

    private void Release(string tenant)
    {
        lock (_gate)
        {
            _inUse--;
            if (--_held[tenant] == 0)
                _held.Remove(tenant);
            Dispatch();
        }
    }

    /// <summary>Hands free slots to waiting tenants in turn; a tenant at its limit keeps its place for later.</summary>
    private void Dispatch()
    {
        var node = _turns.First;
        while (node is not null && _inUse < capacity)
        {
            var next = node.Next;
            var tenant = node.Value;
            var queue = _waiting[tenant];
            while (queue.Count > 0 && queue.Peek().Task.IsCompleted)
                queue.Dequeue();
            if (queue.Count == 0)
            {
                _waiting.Remove(tenant);
                _turns.Remove(node);
            }
            else if (_held.GetValueOrDefault(tenant) < PerTenantLimit)
            {
                var slot = Grant(tenant);
                if (!queue.Dequeue().TrySetResult(slot))
                    Undo(tenant);
                // Served: to the back of the line, behind every other waiting tenant.
                _turns.Remove(node);
                if (queue.Count > 0)
                    _turns.AddLast(node);
                else
                    _waiting.Remove(tenant);
                next = _turns.First;
            }
            node = next;
        }
    }

    private void Undo(string tenant)
    {
        _inUse--;
        if (--_held[tenant] == 0)
            _held.Remove(tenant);
    }

    private sealed class Slot(FairSlots owner, string tenant) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                owner.Release(tenant);
        }
    }
}
