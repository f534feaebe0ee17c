<?php
declare(strict_types=1);

namespace GuzzleHttp;

use Psr\Http\Message\RequestInterface;

/** As Guzzle's: the first entry of the stack is the outermost middleware. */
class HandlerStack
{
    /** @var callable|null */
    private $handler;

    /** @var list<array{0: callable, 1: string|null}> */
    private array $stack = [];

    public function __construct(?callable $handler = null)
    {
        $this->handler = $handler;
    }

    /** The "wire" handler returns the request it was given, as it would be sent. */
    public static function create(?callable $handler = null): self
    {
        return new self($handler ?? static fn (RequestInterface $request, array $options) => $request);
    }

    public function __invoke(RequestInterface $request, array $options)
    {
        $handler = $this->handler;
        foreach (array_reverse($this->stack) as [$middleware]) {
            $handler = $middleware($handler);
        }
        return $handler($request, $options);
    }

    public function unshift(callable $middleware, ?string $name = null): void
    {
        array_unshift($this->stack, [$middleware, $name]);
    }

    public function push(callable $middleware, string $name = ''): void
    {
        $this->stack[] = [$middleware, $name];
    }

    public function remove($remove): void
    {
        $index = is_callable($remove) ? 0 : 1;
        $this->stack = array_values(array_filter($this->stack, static fn (array $entry): bool => $entry[$index] !== $remove));
    }

    /** @return list<string|null> */
    public function names(): array
    {
        return array_column($this->stack, 1);
    }
}
