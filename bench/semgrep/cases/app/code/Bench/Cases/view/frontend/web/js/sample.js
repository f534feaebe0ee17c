// Cases for rules.yaml (JavaScript): bench/semgrep/check_rules.py checks every annotation.
define(['jquery'], function ($) {
    'use strict';

    return function (config) {
        // ruleid: js-ai-host-call
        fetch('https://api.openai.com/v1/chat/completions', {method: 'POST'});
        // ruleid: js-ai-host-call
        $.ajax({url: 'https://api.anthropic.com/v1/messages', type: 'POST'});
        // ruleid: js-ai-host-call
        axios.post('https://generativelanguage.googleapis.com/v1beta/models', {});
        // ok: js-ai-host-call
        fetch('/rest/V1/carts/mine', {method: 'GET'});
        // ok: js-ai-host-call
        $.ajax({url: config.url, type: 'POST'});
    };
});
