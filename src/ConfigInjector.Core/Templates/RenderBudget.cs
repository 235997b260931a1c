namespace ConfigInjector.Core.Templates;

/// <summary>
/// Characters one admission may spend building composed values (templates and formatted files), charged before the
/// work is done, so a render that fails counts as much as one that succeeds. Without it a pod's annotations, all
/// within Kubernetes' limits, could ask for the same large render thousands of times.
/// </summary>
public sealed class RenderBudget(long limit)
{
    public long Limit { get; } = limit;

    public long Spent { get; private set; }

    public bool IsExhausted => Spent > Limit;

    /// <summary>Records <paramref name="characters"/> of work; false once the total is past the limit.</summary>
    public bool TryCharge(long characters)
    {
        Spent += characters;
        return !IsExhausted;
    }
}
