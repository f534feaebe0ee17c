<?php
declare(strict_types=1);

namespace Mageguard\Connector\Plugin;

use Laminas\Http\Client;
use Laminas\Http\Request;
use Mageguard\Connector\Model\Gateway;

/**
 * Laminas\Http\Client and its subclasses (Magento\Framework\HTTP\LaminasClient): send() takes
 * the request to send, or sends the client's own.
 */
class LaminasClientPlugin
{
    public function __construct(private readonly Gateway $gateway)
    {
    }

    /** @return array{0: ?Request} */
    public function beforeSend(Client $subject, ?Request $request = null): array
    {
        $target = $request ?? $subject->getRequest();
        $route = $this->gateway->route($target->getUriString());
        if ($route !== null) {
            $target->setUri($route['url']);
            $headers = $target->getHeaders();
            $rewritten = $this->gateway->rewriteHeaders($headers->toArray(), $route);
            $headers->clearHeaders();
            $headers->addHeaders($rewritten);
        }
        return [$request];
    }
}
