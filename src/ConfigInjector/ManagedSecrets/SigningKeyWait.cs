using ConfigInjector.Core.Planning;

namespace ConfigInjector.ManagedSecrets;

internal static class SigningKeyWait
{
    /// <summary>
    /// The keys once they can be read (a fresh install's first replica creates them), asking again every
    /// <paramref name="retry"/> and telling <paramref name="onMissing"/> why not; null when stopped first.
    /// </summary>
    public static async Task<SigningKeys?> UntilKnownAsync(this ISigningKey signingKey, TimeSpan retry, TimeProvider time, Action<string> onMissing, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                return await signingKey.GetAsync(cancellationToken);
            }
            catch (ManagedSecretException e)
            {
                onMissing(e.Message);
                await Task.Delay(retry, time, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
        return null;
    }
}
