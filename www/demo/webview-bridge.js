// Plays the native side of a React Native WebView: the widget posts each event to
// window.ReactNativeWebView.postMessage(string). Here the messages are kept in a list and shown on the page.
'use strict';
window.realnameBridgeMessages = [];
window.ReactNativeWebView = {
  postMessage(message) {
    window.realnameBridgeMessages.push(message);
    window.dispatchEvent(new CustomEvent('bridge-message', { detail: message }));
  },
};
