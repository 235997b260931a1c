using System.Security.Cryptography;
using ConfigInjector.Backends;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.ManagedSecrets;

/// <summary>
/// The version key without a cluster: 32 random bytes in <c>webhook-certs/dev/version-key</c> under the working
/// directory, created owner-only on first use and kept, so <c>serve</c>'s embedded default, <c>inject</c> and
/// <c>resolve</c> run from the same folder give the same versions, and a pinned <c>ref@version</c> survives a restart.
/// Where the folder cannot be written (a read-only container with no cluster) the key is this process's own: one
/// process, so nothing to agree with, but its versions change when it restarts.
/// </summary>
internal sealed class LocalVersionKey : IVersionKey
{
    public const string FileName = "version-key";
    private const int SeedBytes = 32;

    private readonly Lazy<byte[]> _key;

    public LocalVersionKey(string workingDirectory) =>
        _key = new(() => ContentVersion.DeriveKey(ReadOrCreateOrOwn(Path.Combine(workingDirectory, Tls.DevCertificate.Folder, FileName))));

    public ValueTask<byte[]> GetAsync(CancellationToken cancellationToken)
    {
        try
        {
            return ValueTask.FromResult(_key.Value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ManagedSecretException($"the version key {Tls.DevCertificate.Folder}/{FileName}: {e.Message}");
        }
    }

    private static byte[] ReadOrCreateOrOwn(string file)
    {
        try
        {
            return ReadOrCreate(file);
        }
        catch (Exception e) when (e is UnauthorizedAccessException || (e is IOException && !File.Exists(file)))
        {
            return RandomNumberGenerator.GetBytes(SeedBytes);
        }
    }

    private static byte[] ReadOrCreate(string file)
    {
        if (Read(file) is { } existing)
            return existing;
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        // Written aside and moved in without overwriting: two processes starting at once end up with one key.
        var temporary = $"{file}.{Environment.ProcessId}.{Guid.NewGuid():N}";
        using (var stream = Tls.OwnerOnlyFile.CreateNew(temporary))
            stream.Write(RandomNumberGenerator.GetBytes(SeedBytes));
        try
        {
            File.Move(temporary, file, overwrite: false);
        }
        catch (IOException) when (File.Exists(file))
        {
            File.Delete(temporary);
        }
        return Read(file) ?? throw new IOException($"{file} holds fewer than {SeedBytes} bytes");
    }

    private static byte[]? Read(string file)
    {
        if (!File.Exists(file))
            return null;
        var bytes = File.ReadAllBytes(file);
        return bytes.Length >= SeedBytes ? bytes : throw new IOException($"{file} holds fewer than {SeedBytes} bytes");
    }
}
