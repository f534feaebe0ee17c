<?php
declare(strict_types=1);

namespace Mageguard\Connector\Model;

use Magento\Framework\App\Config\ScopeConfigInterface;
use Magento\Framework\Encryption\EncryptorInterface;
use Magento\Store\Model\ScopeInterface;
use Magento\Store\Model\StoreManagerInterface;

/**
 * The one place that decides the fate of an outbound HTTP call, so that every plugin applies
 * the same answer: left alone (not an AI host), sent to the mageguard gateway with the
 * gateway's key in place of the provider's, or refused (an AI host whose API the gateway does
 * not speak, or no gateway key: the call must never reach the provider).
 */
class Gateway
{
    private const GENERAL = 'mageguard_connector/general/';
    private const KEYS = 'mageguard_connector/keys/';

    /** Headers that carry a provider's own key; none may leave with a rerouted call. */
    public const PROVIDER_AUTH_HEADERS = ['Authorization', 'x-api-key', 'api-key', 'x-goog-api-key'];

    /** The API paths the gateway serves, by protocol; /chat/completions before /completions. */
    private const SERVED_PATHS = [
        'openai' => ['/chat/completions', '/completions', '/embeddings', '/responses', '/models'],
        'anthropic' => ['/messages'],
    ];

    public function __construct(
        private readonly ScopeConfigInterface $scopeConfig,
        private readonly EncryptorInterface $encryptor,
        private readonly StoreManagerInterface $storeManager
    ) {
    }

    public function isEnabled(): bool
    {
        return $this->scopeConfig->isSetFlag(
            self::GENERAL . 'enabled',
            ScopeInterface::SCOPE_WEBSITES,
            $this->websiteCode()
        );
    }

    /**
     * Null when the call may go as it is; otherwise where it goes instead and how its headers
     * change. Always null while the connector is disabled.
     *
     * @return array{url: string, headers: array<string, string>, remove_headers: list<string>}|null
     * @throws BlockedCallException
     */
    public function route(string $url): ?array
    {
        if (!$this->isEnabled()) {
            return null;
        }
        // libcurl reads "host/path" without a scheme as http://host/path: so must we.
        $parts = parse_url(str_contains($url, '://') ? $url : '//' . ltrim($url, '/'));
        $host = strtolower(rtrim((string)($parts['host'] ?? ''), '.'));
        if ($host !== '' && $this->isGateway($parts, $host)) {
            // Already aimed at the gateway (an endpoint `mageguard fix` rewrote): its key may be
            // the encrypted value a module read without decrypting, so ours replaces it.
            return [
                'url' => $url,
                'headers' => $this->headers(),
                'remove_headers' => self::PROVIDER_AUTH_HEADERS,
            ];
        }
        $route = $host === '' ? null : $this->findRoute($host);
        if ($route === null) {
            return null;
        }
        $path = rtrim((string)($parts['path'] ?? ''), '/');
        foreach (self::SERVED_PATHS[$route['protocol'] ?? ''] ?? [] as $suffix) {
            if (str_ends_with($path, $suffix)) {
                // The query string goes: Azure's api-version means nothing to the gateway.
                return [
                    'url' => $this->gatewayUrl() . '/v1' . $suffix,
                    'headers' => $this->headers(),
                    'remove_headers' => self::PROVIDER_AUTH_HEADERS,
                ];
            }
        }
        throw new BlockedCallException(sprintf(
            'mageguard blocked a call to %s%s (%s): the gateway does not speak that API, '
            . 'and the call must not reach the provider directly',
            $host,
            $path,
            (string)($route['provider'] ?? 'unknown provider')
        ));
    }

    /**
     * The headers a rerouted call carries: the four gateway headers for the calling surface.
     *
     * @return array<string, string>
     * @throws BlockedCallException
     */
    public function headers(): array
    {
        $website = $this->websiteCode();
        $surface = $this->surface();
        return [
            'Authorization' => 'Bearer ' . $this->key($surface, $website),
            'X-Mageguard-Tenant' => $website,
            'X-Mageguard-Store' => (string)$this->storeManager->getStore()->getCode(),
            'X-Mageguard-Surface' => $surface,
        ];
    }

    /**
     * Header names are case-insensitive, so the provider's key is dropped however the module
     * spelled it, as is any earlier copy of our own headers; then ours are added.
     *
     * @param array<string, mixed> $headers
     * @param array{headers: array<string, string>, remove_headers: list<string>} $route
     * @return array<string, mixed>
     */
    public function rewriteHeaders(array $headers, array $route): array
    {
        $drop = array_map('strtolower', [...$route['remove_headers'], ...array_keys($route['headers'])]);
        foreach (array_keys($headers) as $name) {
            if (in_array(strtolower((string)$name), $drop, true)) {
                unset($headers[$name]);
            }
        }
        return $headers + $route['headers'];
    }

    /** @return array<string, mixed>|null */
    private function findRoute(string $host): ?array
    {
        foreach ($this->json('routes', true) as $route) {
            if (!is_array($route) || !is_string($route['host'] ?? null)) {
                throw new BlockedCallException('mageguard: every route needs a "host"; AI calls are refused until it is fixed');
            }
            if (self::hostMatches($route['host'], $host)) {
                return $route;
            }
        }
        return null;
    }

    /** `*` stands for one or more DNS labels: *.openai.azure.com matches a.b.openai.azure.com. */
    private static function hostMatches(string $pattern, string $host): bool
    {
        $labels = array_map(
            static fn (string $label): string => $label === '*' ? '[^.]+(?:\.[^.]+)*' : preg_quote($label, '/'),
            explode('.', strtolower(rtrim($pattern, '.')))
        );
        return preg_match('/\A' . implode('\.', $labels) . '\z/', $host) === 1;
    }

    /**
     * The surface is that of the innermost caller a namespace prefix maps, so a search
     * module's call gets the search key even when it goes through shared HTTP helpers.
     */
    private function surface(): string
    {
        $prefixes = $this->json('surfaces', false);
        uksort($prefixes, static fn ($a, $b): int => strlen((string)$b) <=> strlen((string)$a));
        foreach (debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS) as $frame) {
            $class = $frame['class'] ?? '';
            foreach ($prefixes as $prefix => $surface) {
                if ($class !== '' && str_starts_with($class, (string)$prefix)) {
                    return (string)$surface;
                }
            }
        }
        return (string)($this->setting('default_surface') ?: 'default');
    }

    /** Never the provider's key: without a gateway key for the website the call is refused. */
    private function key(string $surface, string $website): string
    {
        foreach (array_unique([$surface, 'default']) as $id) {
            $stored = (string)$this->scopeConfig->getValue(self::KEYS . $id, ScopeInterface::SCOPE_WEBSITES, $website);
            $key = $stored === '' ? '' : trim((string)$this->encryptor->decrypt($stored));
            if ($key !== '') {
                return $key;
            }
        }
        throw new BlockedCallException(sprintf(
            'mageguard has no gateway key for surface "%s" on website "%s" (mageguard_connector/keys/%s '
            . 'or keys/default): the AI call is refused rather than sent with the provider\'s key',
            $surface,
            $website,
            $surface
        ));
    }

    /** @param array<string, mixed> $parts parse_url() of the call's URL */
    private function isGateway(array $parts, string $host): bool
    {
        $gateway = parse_url($this->gatewayUrl());
        $port = static fn (array $p): int => (int)($p['port'] ?? ((($p['scheme'] ?? 'http') === 'https') ? 443 : 80));
        $base = rtrim((string)($gateway['path'] ?? ''), '/');
        $path = (string)($parts['path'] ?? '');
        return $host === strtolower((string)($gateway['host'] ?? ''))
            && $port($parts) === $port($gateway)
            && ($base === '' || $path === $base || str_starts_with($path, $base . '/'));
    }

    private function gatewayUrl(): string
    {
        $url = rtrim((string)$this->setting('gateway_url'), '/');
        if ($url === '') {
            throw new BlockedCallException('mageguard_connector/general/gateway_url is empty: AI calls are refused');
        }
        return $url;
    }

    /**
     * A setting that does not decode is refused outright: guessing could let calls through.
     *
     * @return array<mixed>
     */
    private function json(string $name, bool $list): array
    {
        $value = json_decode((string)$this->setting($name), true);
        if (!is_array($value) || ($value !== [] && array_is_list($value) !== $list)) {
            throw new BlockedCallException(sprintf(
                'mageguard_connector/general/%s is not a JSON %s: AI calls are refused until it is fixed',
                $name,
                $list ? 'list' : 'object'
            ));
        }
        return $value;
    }

    private function setting(string $name): mixed
    {
        return $this->scopeConfig->getValue(self::GENERAL . $name, ScopeInterface::SCOPE_WEBSITES, $this->websiteCode());
    }

    private function websiteCode(): string
    {
        return (string)$this->storeManager->getWebsite()->getCode();
    }
}
