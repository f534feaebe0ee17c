<?php
declare(strict_types=1);

namespace Mageguard\Connector\Model;

/**
 * Raised in place of an AI call that must not reach its provider: the connector fails closed,
 * so the caller sees an error instead of the store's data leaving unguarded.
 */
class BlockedCallException extends \RuntimeException
{
}
